// What the officer's and administrator's screens share: who may see them, tables, bar charts, files, forms.
import { announce, h, show, t } from "/assets/dom.js";
import { get } from "/assets/api.js";

export const OFFICER_ROLES = ["secretary", "deputy_secretary", "committee_member"];
export const ADMIN_ROLE = "system_administrator";
const names = new Map();

// the organisations where the caller holds one of `roles` (the server still decides every action)
export async function heldOrganizations(roles) {
  const me = await get("/me");
  const ids = [...new Set(me.positions.filter((p) => roles.includes(p.role)).map((p) => p.organization_id))];
  return Promise.all(ids.map(organization));
}

export async function organization(id) {
  if (!names.has(id)) names.set(id, await get(`/organizations/${id}`));
  return names.get(id);
}

export function failed(error) {
  show(h("h1", {}, t("Có lỗi", "Something went wrong")),
    h("p", { role: "alert" }, error.message || t("Không kết nối được.", "No connection.")));
}

export function notAllowed() {
  show(h("h1", {}, t("Không có quyền", "Not allowed")),
    h("p", {}, t("Màn hình này dành cho cấp uỷ và quản trị viên.", "This screen is for officers and administrators.")));
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

// a button whose action's failure is said aloud instead of lost
export function action(label, run, attrs = {}) {
  const button = h("button", { type: "button", ...attrs }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await run();
    } catch (error) {
      announce(error.message || t("Không thực hiện được.", "That did not work."));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

export function choice(name, label, options, attrs = {}) {
  const id = "f-" + name;
  return h("div", { class: "field" }, h("label", { for: id }, label),
    h("select", { id, name, ...attrs }, options.map(([value, text]) => h("option", { value }, text))),
    h("p", { class: "error", id: id + "-error" }));
}

export function area(name, label, attrs = {}) {
  const id = "f-" + name;
  return h("div", { class: "field" }, h("label", { for: id }, label),
    attrs.hint ? h("p", { class: "hint", id: id + "-hint" }, attrs.hint) : null,
    h("textarea", { id, name, rows: 4, "aria-describedby": attrs.hint ? id + "-hint" : null, ...attrs, hint: null }),
    h("p", { class: "error", id: id + "-error" }));
}

export function table(caption, headings, rows) {
  return h("div", { class: "scroll", role: "region", "aria-label": caption, tabindex: 0 },
    h("table", {}, h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell, i) =>
        i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell)))))));
}

export const percent = (rate) => `${Math.round((rate || 0) * 100)}\u00a0%`; // kept on one line

// the policy refuses style attributes, not the style object
function fill(rate) {
  const bar = h("span", { class: "bar-fill" });
  bar.style.width = `${Math.min(100, Math.round((rate || 0) * 100))}%`;
  return bar;
}

// a bar per row, its length the rate: plain elements, read out as "name: 40 %"
export function bars(caption, rows) {
  return h("figure", { class: "bars" }, h("figcaption", {}, caption),
    h("ul", {}, rows.map(([label, rate]) => h("li", {},
      h("span", { class: "bar-label" }, label),
      h("span", { class: "bar-track", "aria-hidden": "true" }, fill(rate)),
      h("span", { class: "bar-value" }, percent(rate))))));
}

// a file from memory saved by the browser
export function save({ blob, name }) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
