// The portal's shell: settings, navigation between screens (the address's #fragment), the service worker.
import { announce, h, settings, t } from "/assets/dom.js";
import { call, get, memberId, refresh, signedIn } from "/assets/api.js";
import { activation, forgotten, signInScreen } from "/assets/signin.js";
import { home, notifications, profile } from "/assets/member.js";

// a screen whose module is fetched the first time it is visited: the first visit stays small
const later = (path, name) => async (...args) => (await import(path))[name](...args);
let positions = null; // the caller's roles, to offer the screens they allow (the server decides each action)

const SCREENS = {
  "": signInScreen,
  activate: activation,
  forgot: forgotten,
  home,
  notifications,
  profile,
  meetings: later("/assets/meetings.js", "meetings"),
  meeting: later("/assets/meetings.js", "meeting"),
  documents: later("/assets/documents.js", "documents"),
  document: later("/assets/documents.js", "reading"),
  notebook: later("/assets/notebook.js", "notebook"),
  note: later("/assets/notebook.js", "note"),
  run: later("/assets/run.js", "run"),
  admin: later("/assets/admin.js", "admin"),
  officer: later("/assets/officer.js", "officer"),
  unsent: later("/assets/unsent.js", "unsent"),
};
const MEMBER_ONLY = new Set(["home", "notifications", "profile", "run", "admin", "officer"]);
// what a member opened or saved, readable without a connection (the refresh cannot reach the server then)
const OFFLINE_TOO = new Set(["documents", "document", "notebook", "note", "meetings", "meeting", "unsent"]);
OFFLINE_TOO.forEach((name) => MEMBER_ONLY.add(name));
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
       link("meetings", t("Họp", "Meetings")), link("documents", t("Tài liệu", "Documents")),
       link("notebook", t("Sổ tay", "Notebook")),
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
  // "#/meeting/12": the screen, then what it shows
  const [asked, ...args] = location.hash.replace(/^#\/?/, "").split("/");
  let name = asked;
  if (!(name in SCREENS)) name = "";
  if (!signedIn() && (MEMBER_ONLY.has(name) || name === "")) {
    if (await refresh()) name = MEMBER_ONLY.has(name) ? name : "home";
    else if (OFFLINE_TOO.has(name) && !navigator.onLine) name = asked;
    else name = MEMBER_ONLY.has(name) ? "" : name;
  } else if (signedIn() && name === "") {
    name = "home";
  }
  const address = "#/" + [name, ...(name === asked ? args : [])].join("/");
  if (location.hash !== address && name !== "") history.replaceState(null, "", address);
  if (!signedIn()) positions = null;
  else positions ||= await get("/me").then((me) => me.positions.map((p) => p.role), () => null);
  nav({ meeting: "meetings", document: "documents", note: "notebook" }[name] || name);
  await SCREENS[name](...(name === asked ? args : []));
  if (signedIn()) sendWaiting();
  else document.getElementById("unsent-notice")?.remove();
}

// what was written without a connection goes as soon as there is one again; what the server refused stays
// listed, with its reasons, until the member dismisses it (unsent.js)
async function sendWaiting() {
  const { claim, flush, keptAll } = await import("/assets/offline.js");
  if (navigator.onLine && (signedIn() || (await refresh()))) {
    await claim(memberId());
    const { sent, refused } = await flush(call);
    if (sent || refused) {
      announce([sent ? t("Đã gửi những gì bạn viết khi không có mạng.", "What you wrote offline has been sent.") : "",
        refused ? t(`${refused} mục không gửi được.`, `${refused} ${refused === 1 ? "item" : "items"} could not be sent.`) : ""].join(" ").trim());
      return route();
    }
  }
  const unsent = signedIn() ? await keptAll("refused/") : [];
  if (unsent.length || document.getElementById("unsent-notice")) (await import("/assets/unsent.js")).notice(unsent);
}
window.addEventListener("online", sendWaiting);

window.addEventListener("hashchange", route);
window.addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault();
  install.prompt = event;
});
applySettings();
route();
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
