// The member's notebook: notes, optionally about a document or a meeting. Written, changed or deleted without a
// connection, a note waits on the device and goes when the connection returns (app.js sendWaiting).
import { announce, dateTime, field, fieldErrors, formData, h, problem, show, t, textArea } from "/assets/dom.js";
import { call, get, optional } from "/assets/api.js";
import { go } from "/assets/app.js";
import { loadFailed, section } from "/assets/member.js";
import { keep, kept, queue, queued, unreachable } from "/assets/offline.js";

const WAITING = () => t("Đã lưu trên máy, sẽ gửi khi có mạng.", "Saved on this device; it will be sent when you are online.");

function about(note) {
  if (note.document_id) return h("a", { href: `#/document/${note.document_id}` }, t("Tài liệu liên quan", "The document it is about"));
  if (note.meeting_id) return h("a", { href: `#/meeting/${note.meeting_id}` }, t("Cuộc họp liên quan", "The meeting it is about"));
  return null;
}

function item(note) {
  return h("li", {},
    h("h2", {}, h("a", { href: `#/note/${note.id}` }, note.title)),
    h("p", { class: "meta" }, t("Sửa lần cuối: ", "Last changed: ") + dateTime(note.updated_at)),
    note.body ? h("p", { class: "said" }, note.body.length > 200 ? note.body.slice(0, 200) + "…" : note.body) : null,
    about(note));
}

function waitingItem(entry) {
  const what = { POST: t("Ghi chú mới", "New note"), PATCH: t("Sửa ghi chú", "Changed note"), DELETE: t("Xoá ghi chú", "Deleted note") };
  return h("li", { class: "waiting" },
    h("h2", {}, (entry.body && entry.body.title) || what[entry.method]),
    h("p", { class: "badge" }, t("Chờ gửi khi có mạng", "Waiting for a connection")),
    entry.body && entry.body.body ? h("p", { class: "said" }, entry.body.body) : null);
}

// Sends one change; without a connection it waits on the device: "sent", "waiting", or null (refused, told)
async function send(form, method, path, body) {
  try {
    await call(method, path, body);
    return "sent";
  } catch (error) {
    if (unreachable(error)) {
      await queue("note", { method, path, body });
      return "waiting";
    }
    fieldErrors(form, error.details);
    problem(form, error.message);
    return null;
  }
}

function noteForm(note, link) {
  const form = h("form", { class: "card", novalidate: true },
    h("h2", {}, note ? t("Sửa ghi chú", "Edit the note") : t("Ghi chú mới", "New note")),
    field("title", t("Tiêu đề", "Title"), { required: true, maxlength: 300, value: note ? note.title : "" }),
    textArea("body", t("Nội dung", "Text"), { rows: 8, value: note ? note.body : "" }),
    link ? h("p", { class: "meta" }, link.label) : null,
    h("button", { type: "submit", class: "primary" }, t("Lưu ghi chú", "Save the note")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem(form, "");
    const data = formData(form);
    if (!data.title) {
      fieldErrors(form, { title: [t("Cần có tiêu đề.", "A title is needed.")] });
      return form.querySelector("#f-title").focus();
    }
    const body = { title: data.title, body: data.body || "", ...(link ? link.ids : {}) };
    const outcome = note ? await send(form, "PATCH", `/me/notes/${note.id}`, body) : await send(form, "POST", "/me/notes", body);
    if (!outcome) return;
    announce(outcome === "waiting" ? WAITING() : t("Đã lưu ghi chú.", "The note is saved."));
    if (note) go("notebook");
    else notebook();
  });
  return form;
}

// `#/notebook`, or `#/notebook/document/<id>` and `#/notebook/meeting/<id>`: a new note about that
export async function notebook(kind, id) {
  let link = null;
  if ((kind === "document" || kind === "meeting") && /^\d+$/.test(id || "")) {
    const found = await optional(kind === "document" ? `/documents/${id}` : `/meetings/${id}`).catch(() => null);
    const name = found ? found.title : `${id}`;
    link = {
      ids: { [`${kind}_id`]: Number(id) },
      label: kind === "document" ? t(`Về tài liệu: ${name}`, `About the document: ${name}`) : t(`Về cuộc họp: ${name}`, `About the meeting: ${name}`),
    };
  }
  let page;
  let offline = false;
  try {
    page = await get("/me/notes?limit=200");
    await keep("notes", page); // the list, readable offline
  } catch (error) {
    if (!unreachable(error)) return loadFailed(error);
    page = (await kept("notes")) || { items: [] };
    offline = true;
  }
  const waiting = await queued("note");
  show(
    h("h1", {}, t("Sổ tay ghi chép", "Notebook")),
    offline ? h("p", { class: "problem" }, t("Không có mạng: các ghi chú lưu trên máy. Ghi chú mới sẽ được gửi khi có mạng.",
      "No connection: the notes kept on this device. New notes are sent when you are online.")) : null,
    noteForm(null, link),
    waiting.length ? section(t("Chờ gửi", "Waiting to be sent"), h("ul", { class: "list" }, waiting.map(waitingItem))) : null,
    page.items.length
      ? h("ul", { class: "list notes" }, page.items.map(item))
      : h("p", {}, t("Chưa có ghi chú nào.", "No notes yet.")),
  );
}

export async function note(id) {
  let found;
  try {
    found = await get(`/me/notes/${id}`);
  } catch (error) {
    if (!unreachable(error)) return loadFailed(error);
    found = ((await kept("notes")) || { items: [] }).items.find((n) => String(n.id) === String(id));
    if (!found) return loadFailed({ message: t("Không có mạng.", "No connection.") });
  }
  const remove = h("button", { type: "button", class: "danger" }, t("Xoá ghi chú", "Delete the note"));
  remove.addEventListener("click", async () => {
    if (!window.confirm(t("Xoá ghi chú này?", "Delete this note?"))) return;
    const form = remove.closest("main").querySelector("form");
    const outcome = await send(form, "DELETE", `/me/notes/${found.id}`);
    if (!outcome) return;
    announce(outcome === "waiting" ? WAITING() : t("Đã xoá ghi chú.", "The note is deleted."));
    go("notebook");
  });
  show(
    h("p", {}, h("a", { href: "#/notebook" }, t("← Sổ tay", "← Notebook"))),
    h("h1", {}, found.title),
    h("p", { class: "meta" }, t("Viết lúc ", "Written ") + dateTime(found.created_at)),
    about(found),
    noteForm(found, null),
    remove,
  );
}
