// Building the page: elements from plain data, text always as text (never parsed as HTML).
export const settings = {
  lang: localStorage.getItem("sotay.lang") || "vi",
};

// Vietnamese first; the English when the member chose it
export function t(vi, en) {
  return settings.lang === "en" ? en : vi;
}

// One side of a "Việt / English" message from the server
export function side(message) {
  const [vi, en] = String(message).split(" / ");
  return t(vi, en || vi);
}

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function show(...children) {
  const main = document.getElementById("main");
  main.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  const heading = main.querySelector("h1");
  document.title = (heading ? heading.textContent + " · " : "") + "Sổ tay";
  main.focus({ preventScroll: true });
}

let quiet = null;

// A short message read out by screen readers and shown at the foot of the screen for a while
export function announce(text) {
  const status = document.getElementById("status");
  status.textContent = text;
  clearTimeout(quiet);
  quiet = setTimeout(() => (status.textContent = ""), 8000);
}

// A field with its label and a place for what is wrong with it
export function field(name, label, attrs = {}) {
  const id = "f-" + name;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    attrs.hint ? h("p", { class: "hint", id: id + "-hint" }, attrs.hint) : null,
    h("input", {
      id,
      name,
      "aria-describedby": [attrs.hint ? id + "-hint" : "", id + "-error"].join(" ").trim(),
      ...attrs,
      hint: null,
    }),
    h("p", { class: "error", id: id + "-error" }),
  );
}

export function problem(form, text) {
  let box = form.querySelector(".problem");
  if (!box) {
    box = h("div", { class: "problem", role: "alert" });
    form.prepend(box);
  }
  box.textContent = text || "";
  box.hidden = !text;
}

// The per-field reasons of a 400 answer next to their fields
export function fieldErrors(form, details) {
  for (const node of form.querySelectorAll(".error")) node.textContent = "";
  for (const [name, reasons] of Object.entries(details || {})) {
    const slot = form.querySelector(`#f-${name}-error`);
    if (slot) slot.textContent = [].concat(reasons).join(" ");
    const input = form.querySelector(`#f-${name}`);
    if (input) input.setAttribute("aria-invalid", "true");
  }
}

export function formData(form) {
  return Object.fromEntries(
    [...new FormData(form).entries()].map(([key, value]) => [key, typeof value === "string" ? value.trim() : value]),
  );
}

export function dateTime(iso) {
  return new Date(iso).toLocaleString(settings.lang === "en" ? "en-GB" : "vi-VN", {
    timeZone: "Asia/Ho_Chi_Minh",
    dateStyle: "medium",
    timeStyle: "short",
  });
}

// A longer text with its label and a place for what is wrong with it (like `field`)
export function textArea(name, label, attrs = {}) {
  const id = attrs.id || "f-" + name;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("textarea", { id, name, rows: 4, "aria-describedby": id + "-error", ...attrs, value: null }, attrs.value || ""),
    h("p", { class: "error", id: id + "-error" }),
  );
}
