// The portal's shell: settings, navigation between screens (the address's #fragment), the service worker.
import { h, settings, t } from "/assets/dom.js";
import { get, refresh, signedIn } from "/assets/api.js";
import { activation, forgotten, signInScreen } from "/assets/signin.js";
import { home, notifications, profile } from "/assets/member.js";

// officers' and administrators' screens: fetched the first time they are visited, so a member's first visit stays small
const later = (path, name) => async () => (await import(path))[name]();
let positions = null; // the caller's roles, to offer the screens they allow (the server decides each action)

const SCREENS = {
  "": signInScreen,
  activate: activation,
  forgot: forgotten,
  home,
  notifications,
  profile,
  run: later("/assets/run.js", "run"),
  admin: later("/assets/admin.js", "admin"),
  officer: later("/assets/officer.js", "officer"),
};
const MEMBER_ONLY = new Set(["home", "notifications", "profile", "run", "admin", "officer"]);
export const install = { prompt: null };

function applySettings() {
  document.documentElement.lang = settings.lang;
  document.documentElement.classList.toggle("large", localStorage.getItem("sotay.large") === "1");
  document.documentElement.classList.toggle("contrast", localStorage.getItem("sotay.contrast") === "1");
}

export function setSetting(key, value) {
  localStorage.setItem("sotay." + key, value);
  if (key === "lang") settings.lang = value;
  applySettings();
  route();
}

export function go(name) {
  if (location.hash === "#/" + name) route();
  else location.hash = "#/" + name;
}

function nav(current) {
  const link = (name, label) =>
    h("a", { href: "#/" + name, "aria-current": current === name ? "page" : null }, label);
  const items = signedIn()
    ? [link("home", t("Trang chủ", "Home")), link("notifications", t("Thông báo", "Notifications")),
       link("profile", t("Hồ sơ", "Profile"))]
    : [];
  const roles = new Set((signedIn() && positions) || []);
  const officer = ["secretary", "deputy_secretary", "committee_member"].some((role) => roles.has(role));
  if (officer) items.push(link("officer", t("Cấp uỷ", "Officer")), link("run", t("Điều hành họp", "Run a meeting")));
  if (roles.has("system_administrator")) {
    if (!officer) items.push(link("officer", t("Số liệu", "Dashboards")));
    items.push(link("admin", t("Quản trị", "Administration")));
  }
  const other = settings.lang === "en" ? "vi" : "en";
  items.push(
    h("button", { type: "button", class: "link", lang: other, onclick: () => setSetting("lang", other) },
      other === "en" ? "English" : "Tiếng Việt"),
  );
  document.getElementById("nav").replaceChildren(...items);
}

async function route() {
  let name = location.hash.replace(/^#\/?/, "");
  if (!(name in SCREENS)) name = "";
  if (!signedIn() && (MEMBER_ONLY.has(name) || name === "")) {
    if (await refresh()) name = MEMBER_ONLY.has(name) ? name : "home";
    else name = MEMBER_ONLY.has(name) ? "" : name;
  } else if (signedIn() && name === "") {
    name = "home";
  }
  if (location.hash !== "#/" + name && name !== "") history.replaceState(null, "", "#/" + name);
  if (!signedIn()) positions = null;
  else positions ||= await get("/me").then((me) => me.positions.map((p) => p.role), () => null);
  nav(name);
  await SCREENS[name]();
}

window.addEventListener("hashchange", route);
window.addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault();
  install.prompt = event;
});
applySettings();
route();
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
