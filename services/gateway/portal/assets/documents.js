// Documents for the member: by category, unread or saved, search; reading (kept on the device for offline
// reading), marking read, saving, attachments, the quiz of study material.
import { announce, dateTime, formData, h, problem, show, t } from "/assets/dom.js";
import { call, get, optional, post, saveDownload } from "/assets/api.js";
import { loadFailed, section } from "/assets/member.js";
import { keep, kept, keptAll, unreachable } from "/assets/offline.js";

export const CATEGORY = {
  news: ["Tin tức", "News"],
  resolution: ["Nghị quyết", "Resolutions"],
  directive: ["Chỉ thị", "Directives"],
  regulation: ["Quy định", "Regulations"],
  guidance: ["Hướng dẫn", "Guidance"],
  study: ["Tài liệu học tập", "Study material"],
};
// what content's sanitiser lets through (services/content/bodies.py); checked again here before it is shown
const TAGS = new Set(["P", "BR", "HR", "BLOCKQUOTE", "PRE", "CODE", "STRONG", "EM", "B", "I", "U", "S", "DEL", "SUB",
  "SUP", "H1", "H2", "H3", "H4", "H5", "H6", "UL", "OL", "LI", "A", "TABLE", "THEAD", "TBODY", "TR", "TH", "TD"]);
const ATTRIBUTES = new Set(["href", "title", "start", "align", "rel"]);

const category = (name) => (CATEGORY[name] ? t(...CATEGORY[name]) : name);

function item(doc) {
  return h("li", {},
    h("h2", {}, h("a", { href: `#/document/${doc.id}` }, doc.title)),
    h("p", { class: "meta" }, [category(doc.category), doc.published_at ? dateTime(doc.published_at) : null,
      doc.read ? null : t("Chưa đọc", "Unread"), doc.bookmarked ? t("Đã lưu", "Saved") : null].filter(Boolean).join(" · ")),
    doc.summary ? h("p", {}, doc.summary) : null);
}

// `#/documents`, `#/documents/unread`, `#/documents/bookmarked`, `#/documents/<category>`
export async function documents(which = "") {
  const search = h("input", { type: "search", id: "f-q", name: "q", autocomplete: "off" });
  const kind = h("select", { id: "f-category", name: "category" },
    h("option", { value: "" }, t("Tất cả", "All")),
    Object.keys(CATEGORY).map((name) => h("option", { value: name, selected: which === name }, category(name))));
  const box = (name, label) => h("div", { class: "check" },
    h("input", { type: "checkbox", id: `f-${name}`, name, value: "true", checked: which === name }),
    h("label", { for: `f-${name}` }, label));
  const form = h("form", { class: "card", role: "search", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "f-q" }, t("Tìm trong tài liệu (gõ có dấu hay không dấu đều được)",
      "Search the documents (with or without diacritics)")), search),
    h("div", { class: "filters" },
      h("div", { class: "field" }, h("label", { for: "f-category" }, t("Loại tài liệu", "Category")), kind),
      box("unread", t("Chưa đọc", "Unread")), box("bookmarked", t("Đã lưu", "Saved"))),
    h("button", { type: "submit" }, t("Tìm", "Search")));
  const found = h("div", { "aria-live": "polite" });
  const list = async (cursor) => {
    const query = new URLSearchParams(Object.entries(formData(form)).filter(([, value]) => value !== ""));
    query.set("limit", "20");
    if (cursor) query.set("cursor", cursor);
    try {
      const page = await get(`/documents?${query}`);
      const more = page.next_cursor
        ? h("button", { type: "button", onclick: (event) => { event.target.remove(); list(page.next_cursor); } }, t("Xem thêm", "More"))
        : null;
      const items = h("ul", { class: "list documents" }, page.items.map(item));
      if (cursor) found.append(items, more || "");
      else found.replaceChildren(h("p", { class: "meta" }, page.items.length ? t(`${page.items.length}${page.next_cursor ? "+" : ""} tài liệu`,
        `${page.items.length}${page.next_cursor ? "+" : ""} documents`) : t("Không có tài liệu nào.", "No documents.")), items, more || "");
    } catch (error) {
      if (!unreachable(error)) return problem(form, error.message);
      // no connection: what this device keeps
      const saved = await keptAll("document/");
      found.replaceChildren(h("p", { class: "problem" }, t("Không có mạng. Đây là các tài liệu đã lưu trên máy.",
        "No connection. These are the documents kept on this device.")), h("ul", { class: "list documents" }, saved.map(item)));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    problem(form, "");
    list();
  });
  show(h("h1", {}, t("Tài liệu", "Documents")), form, found);
  await list();
}

// The served body (sanitised HTML) as nodes: parsed inert, and only the sanitiser's tags and attributes kept
function body(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  for (const node of [...template.content.querySelectorAll("*")]) {
    if (!TAGS.has(node.tagName)) {
      node.replaceWith(...node.childNodes);
      continue;
    }
    for (const { name } of [...node.attributes]) if (!ATTRIBUTES.has(name)) node.removeAttribute(name);
    if (node.tagName === "A" && !/^(https?:|mailto:)/i.test(node.getAttribute("href") || "")) node.removeAttribute("href");
  }
  return h("div", { class: "body" }, template.content);
}

function quizSection(doc, quiz, again) {
  if (!quiz) return null;
  const status = h("p", {}, quiz.passed
    ? t(`Bạn đã đạt (điểm cao nhất ${Math.round(quiz.best_score * 100)}%).`, `You passed (best score ${Math.round(quiz.best_score * 100)}%).`)
    : t(`Cần đúng ${Math.round(quiz.pass_mark * 100)}% để đạt. Đã làm ${quiz.attempts} trên ${quiz.max_attempts} lần.`,
        `You need ${Math.round(quiz.pass_mark * 100)}% to pass. Attempts: ${quiz.attempts} of ${quiz.max_attempts}.`));
  const left = quiz.max_attempts - quiz.attempts;
  if (quiz.passed || left <= 0) return section(t("Bài kiểm tra", "Quiz"), status);
  // one right option: radio buttons; several: checkboxes, and the member is told to choose them all
  const form = h("form", { novalidate: true },
    quiz.questions.map((question, q) => {
      const several = question.multiple !== false;
      return h("fieldset", { "aria-describedby": `q-${q}-how` },
        h("legend", {}, `${q + 1}. ${question.text}`),
        h("p", { class: "hint", id: `q-${q}-how` }, several
          ? t("Chọn tất cả đáp án đúng.", "Choose every right answer.") : t("Chọn một đáp án.", "Choose one answer.")),
        question.options.map((option, n) => h("div", { class: "check" },
          h("input", { type: several ? "checkbox" : "radio", id: `q-${q}-${n}`, name: `q${q}`, value: String(n) }),
          h("label", { for: `q-${q}-${n}` }, option))));
    }),
    h("button", { type: "submit" }, t("Nộp bài", "Hand in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answers = quiz.questions.map((_, q) => [...form.querySelectorAll(`input[name=q${q}]:checked`)].map((box) => Number(box.value)));
    try {
      const result = await post(`/documents/${doc.id}/quiz/attempts`, { answers });
      const score = Math.round(result.score * 100);
      announce(result.passed ? t(`Bạn đúng ${score}%: đạt.`, `You scored ${score}%: passed.`)
        : t(`Bạn đúng ${score}%: chưa đạt. Còn ${result.attempts_left} lần.`, `You scored ${score}%: not passed. ${result.attempts_left} attempts left.`));
      again();
    } catch (error) {
      problem(form, error.message);
    }
  });
  return section(t("Bài kiểm tra", "Quiz"), status, form);
}

function attachmentsSection(doc, source) {
  if (!doc.attachments.length) return null;
  const kb = (size) => (size < 1024 * 1024 ? `${Math.ceil(size / 1024)} KB` : `${(size / 1024 / 1024).toFixed(1)} MB`);
  return section(t("Tệp đính kèm", "Attachments"), h("ul", { class: "list" }, doc.attachments.map((file) =>
    h("li", {}, h("button", { type: "button", class: "link", onclick: async () => {
      try {
        await saveDownload(`${source}/attachments/${file.n}`, file.name);
      } catch (error) {
        announce(unreachable(error) ? t("Cần có mạng để tải tệp.", "Downloading needs a connection.") : error.message);
      }
    } }, t("Tải về ", "Download ") + file.name), h("span", { class: "meta" }, ` (${kb(file.size)})`)))));
}

// `#/document/<id>`, or `#/document/<id>/meeting/<meeting id>`: a meeting's paper, read through the meeting
export async function reading(id, via, meetingId, again = false) {
  const fromMeeting = via === "meeting" && /^\d+$/.test(meetingId || "");
  const source = fromMeeting ? `/meetings/${meetingId}/papers/${id}` : `/documents/${id}`;
  const readAgain = () => reading(String(id), via, meetingId, true);
  let doc = null;
  let offline = false;
  try {
    doc = await get(source);
    await keep(`document/${id}`, doc); // opened: readable offline from now on
  } catch (error) {
    if (!unreachable(error)) return loadFailed(error);
    doc = await kept(`document/${id}`);
    offline = true;
    if (!doc) {
      return show(h("h1", {}, t("Không có mạng", "No connection")),
        h("p", {}, t("Tài liệu này chưa được lưu trên máy. Hãy mở lại khi có mạng.", "This document is not kept on this device. Open it again when you are online.")),
        h("p", {}, h("a", { href: "#/documents" }, t("Các tài liệu đã lưu", "Documents kept on this device"))));
    }
  }
  const quiz = doc.study && !offline ? await optional(`/documents/${id}/quiz`).catch(() => null) : null;
  const readButton = h("button", { type: "button", disabled: offline }, t("Tôi đã đọc xong", "I have read it"));
  readButton.addEventListener("click", async () => {
    try {
      await post(`/documents/${id}/read`);
      announce(t("Đã ghi nhận bạn đã đọc.", "Marked as read."));
      readAgain();
    } catch (error) {
      announce(unreachable(error) ? t("Không có mạng.", "No connection.") : error.message);
    }
  });
  const save = h("button", { type: "button", "aria-pressed": String(doc.bookmarked), disabled: offline },
    doc.bookmarked ? t("Đã lưu (bấm để bỏ lưu)", "Saved (press to remove)") : t("Lưu tài liệu", "Save the document"));
  save.addEventListener("click", async () => {
    try {
      const marks = await call(doc.bookmarked ? "DELETE" : "PUT", `/documents/${id}/bookmark`);
      await keep(`document/${id}`, { ...doc, bookmarked: marks.bookmarked });
      announce(marks.bookmarked ? t("Đã lưu. Đọc được cả khi không có mạng.", "Saved. Readable offline too.") : t("Đã bỏ lưu.", "Removed from saved."));
      readAgain();
    } catch (error) {
      announce(unreachable(error) ? t("Không có mạng.", "No connection.") : error.message);
    }
  });
  const where = window.scrollY;
  show(
    h("p", {}, fromMeeting ? h("a", { href: `#/meeting/${meetingId}` }, t("← Cuộc họp", "← The meeting"))
      : h("a", { href: "#/documents" }, t("← Tài liệu", "← Documents"))),
    offline ? h("p", { class: "problem" }, t("Không có mạng: bản lưu trên máy.", "No connection: the copy kept on this device.")) : null,
    h("h1", {}, doc.title),
    h("p", { class: "meta" }, [category(doc.category), doc.published_at ? dateTime(doc.published_at) : null].filter(Boolean).join(" · ")),
    doc.summary ? h("p", { class: "summary" }, doc.summary) : null,
    h("div", { class: "actions" }, doc.read ? h("p", {}, t("Bạn đã đọc tài liệu này.", "You have read this document.")) : readButton, save),
    h("article", { "aria-label": t("Nội dung", "Text") }, body(doc.body)),
    attachmentsSection(doc, source),
    quizSection(doc, quiz, readAgain),
    h("p", {}, h("a", { href: `#/notebook/document/${doc.id}` }, t("Ghi chú về tài liệu này", "Write a note about this document"))),
  );
  if (again) window.scrollTo(0, where);
}
