// What the member wrote without a connection and the server refused when it was sent (offline.js flush): a
// notice over every screen, and `#/unsent` listing each with the server's reasons and the text to copy, kept on
// this device until the member dismisses it. Nothing written is lost without a word.
import { announce, dateTime, h, show, side, t } from "/assets/dom.js";
import { forget, keptAll } from "/assets/offline.js";

const ID = "unsent-notice";
const how = (n) => t(`${n} mục không gửi được`, `${n} ${n === 1 ? "item" : "items"} could not be sent`);
const refused = () => keptAll("refused/");

// the notice before the screen while something refused waits to be read (not on the list's own screen)
export async function notice(items) {
  items ||= await refused();
  let box = document.getElementById(ID);
  if (!items.length || location.hash.startsWith("#/unsent")) return box?.remove();
  if (!box) {
    box = h("div", { id: ID, class: "notice", role: "region", "aria-label": t("Chưa gửi được", "Not sent") });
    document.getElementById("main").before(box);
  }
  box.replaceChildren(h("p", {}, h("strong", {}, how(items.length) + ". "),
    h("a", { href: "#/unsent" }, t("Xem lý do và chép lại nội dung", "See why, and copy what you wrote"))));
}

// what it was: an opinion in a meeting, or a note written, changed or deleted
function what(item) {
  const meeting = /^\/meetings\/(\d+)\/opinions$/.exec(item.path);
  if (meeting) {
    return [t("Ý kiến trong cuộc họp", "An opinion in a meeting"), h("a", { href: `#/meeting/${meeting[1]}` }, t("Mở cuộc họp", "Open the meeting"))];
  }
  const note = { POST: t("Ghi chú mới", "A new note"), PATCH: t("Sửa ghi chú", "A change to a note"), DELETE: t("Xoá ghi chú", "Deleting a note") };
  return [note[item.method] || item.path, h("a", { href: "#/notebook" }, t("Mở sổ tay", "Open the notebook"))];
}

function entry(item, n) {
  const body = item.body || {};
  const text = [body.title, body.body].filter(Boolean).join("\n\n");
  const [kind, link] = what(item);
  const copy = h("button", { type: "button" }, t("Chép nội dung", "Copy the text"));
  const area = h("textarea", { id: `u-${n}`, readonly: true, rows: 4 }, text);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      announce(t("Đã chép. Bạn có thể dán vào nơi khác.", "Copied. You can paste it elsewhere."));
    } catch {
      area.select(); // no clipboard here: the text is selected for the member to copy
      announce(t("Đã chọn nội dung: hãy chép bằng trình đơn của máy.", "The text is selected: copy it with your device's menu."));
    }
  });
  const dismiss = h("button", { type: "button", class: "link" }, t("Bỏ mục này", "Dismiss"));
  dismiss.addEventListener("click", async () => {
    await forget(item.key);
    announce(t("Đã bỏ mục đó.", "Dismissed."));
    unsent();
  });
  return h("li", {},
    h("h2", {}, kind),
    h("p", { class: "meta" }, t("Viết lúc ", "Written ") + dateTime(item.queued_at), " · ", link),
    h("p", { class: "problem" }, t("Không gửi được: ", "Not sent: ") + (item.reasons || []).map(side).join(" ")),
    text ? [h("label", { for: `u-${n}` }, t("Nội dung bạn đã viết", "What you wrote")), area] : null,
    h("div", { class: "actions" }, text ? copy : null, dismiss));
}

// `#/unsent`
export async function unsent() {
  const items = await refused();
  show(
    h("h1", {}, t("Chưa gửi được", "Not sent")),
    items.length
      ? [h("p", {}, t("Những mục bạn viết khi không có mạng mà máy chủ không nhận. Hãy chép lại nội dung nếu cần, rồi bỏ mục đó.",
          "What you wrote offline that the server did not accept. Copy the text if you need it, then dismiss the item.")),
         h("ul", { class: "list" }, items.map(entry))]
      : h("p", {}, t("Không còn mục nào chưa gửi được.", "Nothing is left unsent.")),
  );
  notice(items);
}
