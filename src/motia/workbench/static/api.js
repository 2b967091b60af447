// The guarded JSON API: the token (?token= on first load, then sessionStorage) goes in a Bearer header.
import { showTokenScreen } from "./widgets.js";

export const API = "/__motia/api";
export const TOKEN_KEY = "motia.workbench.token";

{
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, params.get("token"));
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
  }
}
export const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token()) headers.authorization = `Bearer ${token()}`;
  if (options.json !== undefined) {
    options = { ...options, body: JSON.stringify(options.json) };
  }
  // The server takes writes only as JSON: a page of another site cannot send that type.
  if (!["GET", "HEAD"].includes((options.method || "GET").toUpperCase())) {
    headers["content-type"] = "application/json";
  }
  const response = await fetch(API + path, { ...options, headers });
  if (response.status === 401) {
    showTokenScreen(token() ? "The token you gave was not accepted." : "");
    throw new ApiError(401, "a valid workbench token is required");
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!response.ok) throw new ApiError(response.status, (body && body.error) || `HTTP ${response.status}`);
  return body;
}
