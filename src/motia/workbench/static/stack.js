// A stack trace with the user's own frames first and the framework's (Motia, libraries,
// the Python runtime) folded away and marked as such; the raw text stays one click away.
import { h } from "./dom.js";

export function parseStack(text, projectDir) {
  const lines = text.replace(/\n$/, "").split("\n");
  const frames = [];
  const isUser = (file) => !!file && !!projectDir && file.startsWith(projectDir) && !/[\/](site-packages|node_modules|\.venv|venv|python_modules)[\/]/.test(file.slice(projectDir.length));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m = line.match(/^\s*File "(.+)", line (\d+)(?:, in (.+))?$/); // Python
    if (m) {
      const code = [];
      while (i + 1 < lines.length && /^\s{4,}\S/.test(lines[i + 1]) && !/^\s*File "/.test(lines[i + 1])) code.push(lines[++i].trim());
      frames.push({ file: m[1], line: m[2], fn: m[3] || "", code: code.filter((c) => !/^[~^\s]+$/.test(c)).join("\n"), user: isUser(m[1]) });
      continue;
    }
    m = line.match(/^\s*at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/) || line.match(/^\s*(?:from )?(\/.+?):(\d+):in [`'](.+)'$/); // Node, Ruby
    if (m) {
      const [file, no, fn] = line.trim().startsWith("at") ? [m[2], m[3], m[1] || ""] : [m[1], m[2], m[3]];
      frames.push({ file, line: no, fn, code: "", user: isUser(file) });
      continue;
    }
  }
  return frames;
}
export function stackView(text, projectDir) {
  const frames = parseStack(text, projectDir || "");
  const raw = h("details", { class: "stack-raw" }, h("summary", {}, "Raw stack trace"), h("pre", { class: "code stack" }, text));
  if (!frames.length) return h("details", { open: true, class: "stack-view" }, h("summary", {}, "Stack trace"), h("pre", { class: "code stack" }, text));
  const rel = (file) => (projectDir && file.startsWith(projectDir) ? file.slice(projectDir.length).replace(/^[\/]/, "") : file);
  const frameView = (f) => h("div", { class: `frame ${f.user ? "frame-user" : "frame-framework"}` },
    h("div", { class: "frame-where" }, f.user ? null : h("span", { class: "badge frame-tag" }, "framework"),
      h("code", {}, `${rel(f.file)}:${f.line}`), f.fn ? h("span", { class: "muted" }, ` in ${f.fn}`) : null),
    f.code ? h("pre", { class: "frame-code" }, f.code) : null);
  const user = frames.filter((f) => f.user);
  const framework = frames.filter((f) => !f.user);
  return h("div", { class: "stack-view" },
    h("div", { class: "section-title" }, "Stack trace"),
    user.length ? h("div", { class: "frames frames-user" }, user.map(frameView)) : h("div", { class: "muted small" }, "No frame in the project's files."),
    framework.length ? h("details", { class: "frames frames-framework" }, h("summary", {}, `${framework.length} framework frame${framework.length === 1 ? "" : "s"}`), framework.map(frameView)) : null,
    raw);
}
