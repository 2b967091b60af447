// Motia stream client for browsers, served by every Motia server at /__motia/stream-client.js.
// It speaks the stream WebSocket protocol (join/leave, sync, create/update/delete, events)
// with the API of the published classic client, so a page can switch between the two by
// changing its import:
//
//   import { Stream } from "/__motia/stream-client.js";
//   const stream = new Stream();                      // this page's server, ws:// or wss://
//   const todos = stream.subscribeGroup("todo", "inbox", "createdAt");
//   todos.addChangeListener((items) => render(items));
//   todos.onEvent("error", ({ code, message }) => console.warn(code, message));

const RECONNECT_MS = 2000;

let subscriptionCount = 0;

// Unique on a connection; crypto.randomUUID exists only on https and localhost pages.
function newSubscriptionId() {
  subscriptionCount += 1;
  const random = Math.random().toString(36).slice(2, 10);
  return `${Date.now().toString(36)}-${random}-${subscriptionCount}`;
}

function defaultAddress() {
  return globalThis.location.origin.replace(/^http/, "ws");
}

class Subscription {
  constructor(stream, join, initialState) {
    this._stream = stream;
    this._join = join;
    this._state = initialState;
    this._changeListeners = new Set();
    this._eventListeners = new Map();
    this._closed = false;
  }

  get streamName() { return this._join.streamName; }
  get groupId() { return this._join.groupId; }
  get subscriptionId() { return this._join.subscriptionId; }

  getState() { return this._state; }

  addChangeListener(listener) { this._changeListeners.add(listener); }

  removeChangeListener(listener) { this._changeListeners.delete(listener); }

  onEvent(type, listener) {
    if (!this._eventListeners.has(type)) this._eventListeners.set(type, new Set());
    this._eventListeners.get(type).add(listener);
  }

  offEvent(type, listener) { this._eventListeners.get(type)?.delete(listener); }

  close() {
    if (this._closed) return;
    this._closed = true;
    this._stream._remove(this);
  }

  _setState(state) {
    this._state = state;
    for (const listener of [...this._changeListeners]) listener(state);
  }

  _emit(type, data) {
    for (const listener of [...(this._eventListeners.get(type) ?? [])]) listener(data);
  }

  // A frame of this subscription's stream and group; custom events reach every
  // subscription they concern, changes are applied by the subclass.
  _receive(frame) {
    const event = frame.event;
    if (event.type === "event") {
      if (this._concerns(frame)) this._emit(event.event.type, event.event.data);
      return;
    }
    this._apply(frame, event);
  }
}

class GroupSubscription extends Subscription {
  constructor(stream, join, sortKey) {
    super(stream, join, []);
    this._sortKey = sortKey;
    this._stamps = new Map(); // item id -> timestamp of the last frame applied to it
  }

  _concerns() { return true; } // events sent to the group or to any of its items

  _apply(frame, event) {
    if (event.type === "sync") {
      if (frame.id !== undefined || !Array.isArray(event.data)) return; // an item's snapshot
      this._stamps = new Map(event.data.map((item) => [item.id, frame.timestamp]));
      this._setState(this._sorted(event.data));
      return;
    }
    const id = frame.id;
    if (id === undefined || (this._stamps.get(id) ?? -Infinity) >= frame.timestamp) return;
    this._stamps.set(id, frame.timestamp);
    const others = this._state.filter((item) => item.id !== id);
    if (event.type === "delete") {
      this._setState(others);
    } else if (event.type === "create" || event.type === "update") {
      const index = this._state.findIndex((item) => item.id === id);
      const items = index === -1 ? [...others, event.data] : this._state.map(
        (item, at) => (at === index ? event.data : item),
      );
      this._setState(this._sorted(items));
    }
  }

  _sorted(items) {
    const key = this._sortKey;
    if (!key) return [...items];
    return [...items].sort((a, b) => String(a[key] ?? "").localeCompare(String(b[key] ?? "")));
  }
}

class ItemSubscription extends Subscription {
  constructor(stream, join) {
    super(stream, join, null);
    this._stamp = -Infinity;
  }

  get id() { return this._join.id; }

  _concerns(frame) { return frame.id === this._join.id; }

  _apply(frame, event) {
    if (frame.id !== this._join.id) return;
    if (event.type === "sync") { // the answer to this join: authoritative
      this._stamp = frame.timestamp;
      this._setState(event.data ?? null);
      return;
    }
    if (this._stamp >= frame.timestamp) return;
    this._stamp = frame.timestamp;
    if (event.type === "create" || event.type === "update") this._setState(event.data);
    else if (event.type === "delete") this._setState(null);
  }
}

export class Stream {
  // `address`: the server's ws:// or wss:// URL (any path); by default this page's server.
  // `options.protocols`: ["Authorization", token] sends a token.
  constructor(address = defaultAddress(), options = {}) {
    this.address = address;
    this.protocols = options.protocols;
    this._subscriptions = new Map();
    this._closed = false;
    this._timer = undefined;
    this._connect();
  }

  subscribeGroup(streamName, groupId, sortKey) {
    const join = { streamName, groupId, subscriptionId: newSubscriptionId() };
    return this._add(new GroupSubscription(this, join, sortKey));
  }

  subscribeItem(streamName, groupId, id) {
    const join = { streamName, groupId, id, subscriptionId: newSubscriptionId() };
    return this._add(new ItemSubscription(this, join));
  }

  // Close the connection for good: no reconnect.
  close() {
    this._closed = true;
    clearTimeout(this._timer);
    this._socket.close();
  }

  _connect() {
    const socket = new WebSocket(this.address, this.protocols);
    this._socket = socket;
    socket.addEventListener("open", () => {
      // After a reconnect every subscription joins again and gets a fresh snapshot.
      for (const subscription of this._subscriptions.values()) this._joinOn(subscription);
    });
    socket.addEventListener("message", (message) => this._dispatch(message.data));
    socket.addEventListener("close", () => {
      if (!this._closed) this._timer = setTimeout(() => this._connect(), RECONNECT_MS);
    });
  }

  _dispatch(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!frame || typeof frame.event !== "object" || frame.event === null) return;
    for (const subscription of this._subscriptions.values()) {
      if (subscription.streamName === frame.streamName && subscription.groupId === frame.groupId) {
        subscription._receive(frame);
      }
    }
  }

  _add(subscription) {
    this._subscriptions.set(subscription.subscriptionId, subscription);
    this._joinOn(subscription);
    return subscription;
  }

  _remove(subscription) {
    this._subscriptions.delete(subscription.subscriptionId);
    const { streamName, groupId, subscriptionId } = subscription._join;
    this._send({ type: "leave", data: { streamName, groupId, subscriptionId } });
  }

  _joinOn(subscription) {
    this._send({ type: "join", data: subscription._join });
  }

  _send(message) {
    if (this._socket.readyState === WebSocket.OPEN) this._socket.send(JSON.stringify(message));
  }
}
