// The member's screens: home, notifications, profile.
import { announce, dateTime, field, fieldErrors, formData, h, problem, show, t } from "/assets/dom.js";
import { call, get, optional, post, signOut } from "/assets/api.js";
import { go, install, setSetting } from "/assets/app.js";

let me = null;

async function member() {
  me ||= await get("/me");
  return me;
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

export function loadFailed(error) {
  show(h("h1", {}, t("Có lỗi", "Something went wrong")),
    h("p", { role: "alert" }, error.message || t("Không kết nối được.", "No connection.")));
}

export async function home() {
  try {
    const [record, inbox, meetings, unread] = await Promise.all([
      member(),
      get("/me/notifications?unread=true&limit=3"),
      // from a day ago: a meeting under way is still the next one
      optional(`/me/meetings?from=${encodeURIComponent(new Date(Date.now() - 86400000).toISOString())}&limit=20`),
      optional("/me/documents/unread-count"),
    ]);
    const next = meetings && meetings.items && meetings.items.find((m) => ["scheduled", "in_progress"].includes(m.status));
    show(
      h("h1", {}, t("Xin chào, ", "Hello, "), h("span", { class: "name" }, record.full_name)),
      next ? section(t("Cuộc họp sắp tới", "Next meeting"), h("p", {}, h("a", { href: `#/meeting/${next.id}` }, next.title)), h("p", {}, dateTime(next.starts_at)),
        next.location ? h("p", {}, next.location) : null) : null,
      unread ? section(t("Tài liệu chưa đọc", "Unread documents"), h("p", { class: "count" }, String(unread.unread)),
        h("a", { href: "#/documents/unread" }, t("Đọc tài liệu chưa đọc", "Read the unread documents"))) : null,
      section(
        t("Thông báo chưa đọc", "Unread notifications"),
        h("p", { class: "count" }, String(inbox.unread)),
        h("ul", { class: "list" }, inbox.items.map((item) => h("li", {}, item.title))),
        h("a", { href: "#/notifications" }, t("Xem tất cả thông báo", "See every notification")),
      ),
    );
  } catch (error) {
    loadFailed(error);
  }
}

export async function notifications() {
  try {
    const inbox = await get("/me/notifications?limit=50");
    const markAll = h("button", { type: "button" }, t("Đánh dấu tất cả đã đọc", "Mark all as read"));
    markAll.addEventListener("click", async () => {
      await post("/me/notifications/all/read");
      announce(t("Đã đánh dấu tất cả là đã đọc.", "All marked as read."));
      notifications();
    });
    const item = (note) => {
      const read = h("button", { type: "button", class: "link" }, t("Đã đọc", "Mark read"));
      read.addEventListener("click", async () => {
        await post(`/me/notifications/${note.id}/read`);
        notifications();
      });
      return h(
        "li",
        { class: note.read ? "read" : "unread" },
        h("h3", {}, note.read ? "" : h("span", { class: "badge" }, t("Mới", "New")), " ", note.title),
        h("p", {}, note.body),
        h("p", { class: "meta" }, dateTime(note.created_at)),
        note.read ? null : read,
      );
    };
    show(
      h("h1", {}, t("Thông báo", "Notifications")),
      inbox.unread ? markAll : null,
      inbox.items.length
        ? h("ul", { class: "list notes" }, inbox.items.map(item))
        : h("p", {}, t("Chưa có thông báo nào.", "No notifications yet.")),
    );
  } catch (error) {
    loadFailed(error);
  }
}

// A member's record: their own on the profile, or the one an officer opened (officer.js, with its status and
// the name in the heading)
export function recordView(title, record, { name = true, status = false } = {}) {
  const row = (label, value) => [h("dt", {}, label), h("dd", {}, value || "—")];
  return section(
    title,
    h("dl", {},
      name ? row(t("Họ và tên", "Full name"), record.full_name) : null,
      row(t("Số định danh", "Citizen ID"), record.citizen_id),
      row(t("Ngày sinh", "Date of birth"), record.date_of_birth),
      row(t("Số điện thoại", "Phone"), record.phone),
      row(t("Số thẻ đảng viên", "Party card number"), record.party_card_number),
      row(t("Ngày vào Đảng", "Admitted"), record.admission_date),
      row(t("Ngày chính thức", "Official since"), record.official_date),
      status ? row(t("Tình trạng", "Status"), record.status) : null),
  );
}

function changeForm(title, fields, note) {
  const form = h("form", { class: "card", novalidate: true }, h("h2", {}, title), h("p", {}, note), ...fields,
    h("button", { type: "submit" }, t("Gửi", "Send")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem(form, "");
    const body = Object.fromEntries(Object.entries(formData(form)).filter(([, value]) => value !== ""));
    try {
      const answer = await call("PATCH", "/me", body);
      me = answer.member;
      form.reset();
      announce(answer.change_request
        ? t("Đã gửi yêu cầu. Bí thư chi bộ sẽ xem xét.", "Request sent. Your branch secretary will review it.")
        : t("Đã lưu.", "Saved."));
      problem(form, "");
    } catch (error) {
      fieldErrors(form, error.details);
      problem(form, error.message);
    }
  });
  return form;
}

async function sessionsView() {
  const page = await get("/me/sessions");
  const item = (session) => {
    const end = h("button", { type: "button" }, t("Đăng xuất phiên này", "Sign this session out"));
    end.addEventListener("click", async () => {
      await call("DELETE", `/me/sessions/${session.id}`);
      announce(t("Đã đăng xuất phiên đó.", "That session is signed out."));
      profile();
    });
    return h("li", {}, h("p", {}, session.user_agent || t("Thiết bị không rõ", "Unknown device")),
      h("p", { class: "meta" }, t("Dùng lần cuối: ", "Last used: ") + dateTime(session.last_used_at)),
      session.current ? h("p", { class: "badge" }, t("Phiên này", "This session")) : end);
  };
  const others = page.items.filter((session) => !session.current);
  const endOthers = h("button", { type: "button" }, t("Đăng xuất mọi thiết bị khác", "Sign out every other device"));
  endOthers.addEventListener("click", async () => {
    await Promise.all(others.map((session) => call("DELETE", `/me/sessions/${session.id}`)));
    announce(t("Đã đăng xuất các thiết bị khác.", "Every other device is signed out."));
    profile();
  });
  return section(t("Các phiên đăng nhập", "Signed-in sessions"), others.length ? endOthers : null,
    h("ul", { class: "list" }, page.items.map(item)));
}

const CATEGORY = {
  announcements: ["Thông báo chung", "Announcements"], records: ["Hồ sơ", "Records"], meetings: ["Họp", "Meetings"],
  study: ["Học tập", "Study"], security: ["Bảo mật", "Security"],
};
const CHANNEL = { sms: ["Tin nhắn", "SMS"], email: ["Thư điện tử", "E-mail"], push: ["Thông báo đẩy", "Push"] };

async function preferencesView() {
  const preferences = await get("/me/notification-preferences");
  const boxes = preferences.items.map((item) => {
    const id = `p-${item.category}-${item.channel}`;
    return h("div", { class: "check" },
      h("input", { type: "checkbox", id, checked: item.enabled, disabled: item.mandatory,
        "data-category": item.category, "data-channel": item.channel }),
      h("label", { for: id }, `${t(...CATEGORY[item.category])} — ${t(...CHANNEL[item.channel])}`));
  });
  const form = h("form", { class: "card" }, h("h2", {}, t("Nhận thông báo", "Notification preferences")), ...boxes,
    h("button", { type: "submit" }, t("Lưu", "Save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const items = [...form.querySelectorAll("input[type=checkbox]:not([disabled])")].map((box) => ({
      category: box.dataset.category, channel: box.dataset.channel, enabled: box.checked,
    }));
    await call("PUT", "/me/notification-preferences", { items });
    announce(t("Đã lưu.", "Saved."));
  });
  return form;
}

// the VAPID key as the bytes PushManager.subscribe takes
function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

// Web Push on this device, where the browser has it and this deployment sends it (notify's VAPID key)
async function pushView() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return null;
  const { key } = await get("/me/push-key").catch(() => ({ key: null }));
  if (!key) return null;
  const status = h("p", { role: "status" });
  const turnOn = h("button", { type: "button" },
    t("Nhận thông báo trên thiết bị này", "Get notifications on this device"));
  turnOn.addEventListener("click", async () => {
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        status.textContent = t("Bạn chưa cho phép thông báo. Hãy cho phép trong phần cài đặt của trình duyệt.",
          "Notifications are not allowed. Allow them in the browser's settings.");
        return;
      }
      const registration = await navigator.serviceWorker.ready;
      const subscription = (await registration.pushManager.getSubscription())
        || (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
      await post("/me/devices", { platform: "web", token: JSON.stringify(subscription) });
      status.textContent = t("Đã bật thông báo trên thiết bị này.", "Notifications are on for this device.");
    } catch (error) {
      status.textContent = t("Trình duyệt này không bật được thông báo. Bạn vẫn xem thông báo trong mục Thông báo.",
        "This browser could not turn notifications on. You still see them under Notifications.");
    }
  });
  return section(t("Thông báo trên thiết bị", "Notifications on this device"),
    h("p", {}, t("Nhận tin họp và tài liệu mới ngay cả khi không mở Sổ tay.",
      "Get meeting news and new documents even when Sổ tay is closed.")), turnOn, status);
}

function displayView() {
  const toggle = (key, label) => {
    const id = "s-" + key;
    const box = h("input", { type: "checkbox", id, checked: localStorage.getItem("sotay." + key) === "1" });
    box.addEventListener("change", () => setSetting(key, box.checked ? "1" : "0"));
    return h("div", { class: "check" }, box, h("label", { for: id }, label));
  };
  const installButton = h("button", { type: "button" }, t("Cài ứng dụng lên máy", "Install the app"));
  installButton.addEventListener("click", async () => {
    if (install.prompt) {
      install.prompt.prompt();
      install.prompt = null;
    } else {
      announce(t("Trên iPhone: bấm Chia sẻ rồi “Thêm vào Màn hình chính”. Trên Android: mở trình đơn rồi “Cài đặt ứng dụng”.",
        "On iPhone: tap Share, then “Add to Home Screen”. On Android: open the menu, then “Install app”."));
    }
  });
  return section(t("Hiển thị", "Display"), toggle("large", t("Chữ lớn", "Large text")),
    toggle("contrast", t("Tương phản cao", "High contrast")), installButton);
}

export async function profile() {
  try {
    const record = await member();
    const leave = h("button", { type: "button", class: "danger" }, t("Đăng xuất", "Sign out"));
    leave.addEventListener("click", async () => {
      await signOut().catch(() => {});
      me = null;
      go("");
    });
    show(
      h("h1", {}, t("Hồ sơ", "Profile")),
      recordView(t("Hồ sơ của tôi", "My record"), record),
      changeForm(t("Đổi thông tin liên lạc", "Change contact data"), [
        field("email", t("Thư điện tử", "E-mail"), { type: "email", autocomplete: "email" }),
      ], t("Lưu ngay.", "Saved at once.")),
      changeForm(t("Đề nghị sửa thông tin", "Request a correction"), [
        field("full_name", t("Họ và tên đúng", "Correct full name"), { autocomplete: "name" }),
        field("date_of_birth", t("Ngày sinh đúng", "Correct date of birth"), { type: "date" }),
      ], t("Bí thư chi bộ sẽ xem xét trước khi sửa.", "Your branch secretary reviews it first.")),
      await sessionsView(),
      await preferencesView(),
      await pushView(),
      displayView(),
      leave,
    );
  } catch (error) {
    loadFailed(error);
  }
}
