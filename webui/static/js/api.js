/* The JSON API as the pages' scripts call it: the CSRF token goes in a header on every write. */

export class ApiError extends Error {
  constructor(message, status, rule) {
    super(message);
    this.status = status;
    this.rule = rule;
  }
}

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

export async function api(method, url, body) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.status === 401) {
    window.location.assign(`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  if (!response.ok) {
    throw new ApiError((data && data.error) || `The server answered ${response.status}`, response.status, data && data.rule);
  }
  return data;
}

/* A short message at the bottom of the page, read out by screen readers. */
export function toast(message) {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = message;
  box.classList.add("shown");
  clearTimeout(box.hideTimer);
  box.hideTimer = setTimeout(() => box.classList.remove("shown"), 5000);
}

/* Build an element safely: text always goes in as text, never as HTML. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}
