// An officer's screens over their subtree: dashboards (uptake, attendance, study) drilling down the tree, branch
// members and their records, approvals, publishing a document.
import { announce, dateTime, field, fieldErrors, formData, h, problem, show, t } from "/assets/dom.js";
import { call, download, get, optional, post, upload } from "/assets/api.js";
import {
  ADMIN_ROLE, OFFICER_ROLES, action, area, bars, choice, failed, heldOrganizations, notAllowed, percent, save, section, table,
} from "/assets/staff.js";
import { recordView } from "/assets/member.js";

// words in the language chosen when the form is drawn
const categories = () => [["news", t("Tin tức", "News")], ["resolution", t("Nghị quyết", "Resolution")],
  ["directive", t("Chỉ thị", "Directive")], ["regulation", t("Quy định", "Regulation")],
  ["guidance", t("Hướng dẫn", "Guidance")], ["study", t("Tài liệu học tập", "Study material")]];
// the core data a member may ask to correct
const FIELD = { full_name: ["Họ và tên", "Full name"], date_of_birth: ["Ngày sinh", "Date of birth"],
  gender: ["Giới tính", "Gender"], citizen_id: ["Số định danh", "Citizen ID"] };
const thisMonth = () => new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Ho_Chi_Minh" }).slice(0, 7);
let held = [];

export async function officer() {
  try {
    held = await heldOrganizations([...OFFICER_ROLES, ADMIN_ROLE]); // an administrator's: the whole tree
    if (!held.length) return notAllowed();
    await dashboard([held[0]]);
  } catch (error) {
    failed(error);
  }
}

// the officer's views, one after another on this screen
function views(current, trail) {
  const root = trail[0];
  const link = (name, label, open) => h("li", {}, h("button", { type: "button", class: "link",
    "aria-current": current === name ? "page" : null, onclick: () => open().catch(failed) }, label));
  return h("nav", { "aria-label": t("Việc của cấp uỷ", "Officer's work") }, h("ul", { class: "links" },
    link("dashboard", t("Số liệu", "Dashboards"), () => dashboard([root])),
    link("members", t("Đảng viên", "Members"), () => members(root)),
    link("approvals", t("Chờ duyệt", "Approvals"), () => approvals(root)),
    link("publish", t("Đăng văn bản", "Publish a document"), () => publish(root))));
}

function heading(title, trail) {
  const picker = held.length > 1 ? choice("organization", t("Tổ chức của tôi", "My organisation"),
    held.map((o) => [o.id, o.name])) : null;
  if (picker) {
    const select = picker.querySelector("select");
    select.value = String(trail[0].id);
    select.addEventListener("change", () =>
      dashboard([held.find((o) => String(o.id) === select.value)]).catch(failed));
  }
  return picker ? [h("h1", {}, title), picker] : [h("h1", {}, title)];
}

// --- dashboards --------------------------------------------------------------------------------------------

async function dashboard(trail, month = thisMonth(), documentId = null) {
  const here = trail[trail.length - 1];
  const [uptake, attendance, documents] = await Promise.all([
    get(`/organizations/${here.id}/uptake`),
    optional(`/organizations/${here.id}/attendance?month=${month}`),
    optional("/documents?limit=50"),
  ]);
  const studied = (documents ? documents.items : []).filter((d) => d.study || d.category === "study");
  const chosen = documentId || (studied[0] && studied[0].id);
  const study = chosen ? await optional(`/organizations/${here.id}/study-progress?document_id=${chosen}`) : null;
  const deeper = (row) => h("button", { type: "button", class: "link",
    onclick: () => dashboard([...trail, { id: row.organization_id, name: row.name }], month, chosen).catch(failed) },
    row.name);
  const report = (title, answer, columns, rate, xlsx) => section(title,
    bars(t("Tỉ lệ theo tổ chức trực thuộc", "Rate in each organisation below"),
      [[t("Toàn bộ", "All"), answer[rate]], ...answer.children.map((row) => [row.name, row[rate]])]),
    table(title, [t("Tổ chức", "Organisation"), ...columns.map(([, label]) => label)],
      [...answer.children.map((row) => [deeper(row), ...columns.map(([key]) => figure(row, key, rate))]),
        [t("Cộng", "Total"), ...columns.map(([key]) => figure(answer, key, rate))]]),
    action(t("Tải bảng Excel (XLSX)", "Download the table (XLSX)"),
      async () => save(await download(xlsx, "bao-cao.xlsx"))));
  const monthField = h("form", { class: "inline" },
    field("month", t("Tháng", "Month"), { type: "month", value: month }),
    h("button", { type: "submit" }, t("Xem", "Show")));
  monthField.addEventListener("submit", (event) => {
    event.preventDefault();
    dashboard(trail, formData(monthField).month || thisMonth(), chosen).catch(failed);
  });
  const documentPicker = studied.length ? choice("document", t("Tài liệu học tập", "Study document"),
    studied.map((d) => [d.id, d.title])) : null;
  if (documentPicker) {
    const select = documentPicker.querySelector("select");
    select.value = String(chosen);
    select.addEventListener("change", () => dashboard(trail, month, Number(select.value)).catch(failed));
  }
  show(
    ...heading(t("Số liệu: ", "Dashboards: ") + here.name, trail),
    views("dashboard", trail),
    h("nav", { "aria-label": t("Đang xem", "You are here"), class: "trail" }, h("ol", {}, trail.map((step, i) =>
      h("li", {}, i === trail.length - 1 ? h("span", { "aria-current": "location" }, step.name)
        : h("button", { type: "button", class: "link",
          onclick: () => dashboard(trail.slice(0, i + 1), month, chosen).catch(failed) }, step.name))))),
    report(t("Kích hoạt Sổ tay", "Sổ tay uptake"), uptake,
      [["in_party", t("Đảng viên", "Members")], ["activated", t("Đã kích hoạt", "Signed in")], ["rate", t("Tỉ lệ", "Rate")]],
      "rate", `/organizations/${here.id}/uptake?format=xlsx`),
    attendance ? h("div", {}, monthField, report(t("Chuyên cần sinh hoạt", "Meeting attendance") + ` (${attendance.month})`,
      attendance, [["meetings", t("Cuộc họp", "Meetings")], ["invited", t("Lượt mời", "Invited")],
        ["attended", t("Lượt dự", "Attended")], ["rate", t("Tỉ lệ", "Rate")]],
      "rate", `/organizations/${here.id}/attendance?month=${month}&format=xlsx`)) : null,
    documentPicker || section(t("Tiến độ học tập", "Study progress"),
      h("p", {}, t("Chưa có tài liệu học tập nào.", "No study documents yet."))),
    study ? report(t("Tiến độ học tập", "Study progress"), study,
      [["audience", t("Được gửi", "Reached")], ["read", t("Đã đọc", "Read")], ["rate", t("Tỉ lệ đã đọc", "Read rate")],
        ["passed", t("Đạt bài kiểm tra", "Passed")], ["passed_rate", t("Tỉ lệ đạt", "Pass rate")]],
      "rate", `/organizations/${here.id}/study-progress?document_id=${chosen}&format=xlsx`) : null,
  );
}

const figure = (row, key, rate) => (key === rate || key.endsWith("_rate") ? percent(row[key]) : String(row[key]));

// --- members -----------------------------------------------------------------------------------------------

async function members(root, q = "") {
  const page = await get(`/organizations/${root.id}/members?limit=50${q ? "&q=" + encodeURIComponent(q) : ""}`);
  const search = h("form", { role: "search", class: "inline" },
    field("q", t("Tìm theo tên, số định danh hoặc số thẻ", "Search by name, citizen ID or card number"),
      { type: "search", value: q }),
    h("button", { type: "submit" }, t("Tìm", "Search")));
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    members(root, formData(search).q).catch(failed);
  });
  show(
    ...heading(t("Đảng viên: ", "Members: ") + root.name, [root]),
    views("members", [root]),
    search,
    page.items.length ? h("ul", { class: "list" }, page.items.map((member) => h("li", {},
      h("button", { type: "button", class: "link", onclick: () => record(root, member.id).catch(failed) },
        member.full_name),
      member.citizen_id ? h("p", { class: "meta" }, member.citizen_id) : null)))
      : h("p", {}, t("Không tìm thấy đảng viên nào.", "No members found.")),
  );
}

async function record(root, id) {
  const [member, records] = await Promise.all([get(`/members/${id}`), optional(`/members/${id}/records`)]);
  const KIND = { work_history: t("Quá trình công tác", "Work history"), reward: t("Khen thưởng", "Reward"),
    discipline: t("Kỷ luật", "Discipline") };
  show(
    h("h1", {}, member.full_name),
    views("members", [root]),
    h("p", {}, h("button", { type: "button", class: "link", onclick: () => members(root).catch(failed) },
      t("← Đảng viên", "← Members"))),
    recordView(t("Hồ sơ", "Record"), member, { name: false, status: true }),
    section(t("Hồ sơ điện tử", "Digital file"), records && records.items.length
      ? h("ul", { class: "list" }, records.items.map((item) => h("li", {}, h("h3", {}, item.title),
        h("p", { class: "meta" }, [KIND[item.kind], item.start_date, item.end_date].filter(Boolean).join(" · ")),
        item.detail ? h("p", {}, item.detail) : null)))
      : h("p", {}, t("Chưa có mục nào.", "Nothing yet."))),
  );
}

// --- approvals ---------------------------------------------------------------------------------------------

async function approvals(root) {
  const [changes, phones, transfers] = await Promise.all([
    optional("/change-requests"), optional("/auth/phone-requests"), optional("/transfers/incoming"),
  ]);
  const again = () => approvals(root);
  const decide = (label, path, said, name) => action(label, async () => {
    await post(path);
    announce(said);
    await again();
  }, { "aria-label": `${label}: ${name}` });
  const nameOf = async (id) => (await optional(`/members/${id}`))?.full_name || `#${id}`;
  const changeItems = await Promise.all((changes ? changes.items : []).map(async (request) => {
    const name = await nameOf(request.member_id);
    return h("li", {}, h("h3", {}, name),
      h("ul", {}, Object.entries(request.changes).map(([key, value]) =>
        h("li", {}, `${FIELD[key] ? t(...FIELD[key]) : key}: ${value}`))),
      h("p", { class: "meta" }, dateTime(request.requested_at)),
      h("div", { class: "row-actions" },
        decide(t("Duyệt", "Approve"), `/change-requests/${request.id}/approve`, t("Đã duyệt.", "Approved."), name),
        decide(t("Từ chối", "Reject"), `/change-requests/${request.id}/reject`, t("Đã từ chối.", "Rejected."), name)));
  }));
  const transferItems = await Promise.all((transfers ? transfers.items : []).map(async (transfer) => {
    const name = await nameOf(transfer.member_id);
    return h("li", {}, h("h3", {}, name), transfer.note ? h("p", {}, transfer.note) : null,
      decide(t("Tiếp nhận", "Accept"), `/transfers/${transfer.id}/accept`, t("Đã tiếp nhận.", "Accepted."), name));
  }));
  const list = (items, empty) => (items.length ? h("ul", { class: "list" }, items) : h("p", {}, empty));
  const none = t("Không có gì chờ duyệt.", "Nothing waiting.");
  show(
    ...heading(t("Chờ duyệt", "Approvals"), [root]),
    views("approvals", [root]),
    section(t("Yêu cầu sửa hồ sơ", "Change requests"), list(changeItems, none)),
    section(t("Xác nhận số điện thoại", "Phone confirmations"), list((phones ? phones.items : []).map((request) =>
      h("li", {}, h("h3", {}, request.full_name), h("p", {}, request.phone),
        h("p", { class: "meta" }, dateTime(request.requested_at)),
        h("div", { class: "row-actions" },
          decide(t("Xác nhận", "Confirm"), `/auth/phone-requests/${request.id}/approve`,
            t("Đã xác nhận; mã được gửi tới số đó.", "Confirmed; the code goes to that phone."), request.full_name),
          decide(t("Từ chối", "Refuse"), `/auth/phone-requests/${request.id}/deny`, t("Đã từ chối.", "Refused."),
            request.full_name)))), none)),
    section(t("Đảng viên chuyển đến", "Transfers in"), list(transferItems, none)),
  );
}

// --- publishing --------------------------------------------------------------------------------------------

async function publish(root) {
  const children = (await optional(`/organizations/${root.id}/children`))?.items || [];
  const audience = [root, ...children].map((organization, i) => h("div", { class: "check" },
    h("input", { type: "checkbox", id: `a-${organization.id}`, name: "audience", value: organization.id, checked: i === 0 }),
    h("label", { for: `a-${organization.id}` }, organization.name)));
  const form = h("form", { class: "card", novalidate: true },
    field("title", t("Tiêu đề", "Title"), { required: true }),
    choice("category", t("Loại văn bản", "Category"), categories()),
    area("summary", t("Tóm tắt", "Summary"), { rows: 2 }),
    area("body", t("Nội dung", "Body"), { rows: 10, required: true,
      hint: t("Viết như thư thường; dòng trống để ngắt đoạn.", "Plain text; a blank line between paragraphs.") }),
    h("fieldset", {}, h("legend", {}, t("Gửi tới", "Audience")), audience,
      h("p", { class: "error", id: "f-audience-error" })),
    h("div", { class: "check" }, h("input", { type: "checkbox", id: "f-study", name: "study" }),
      h("label", { for: "f-study" }, t("Tài liệu học tập (theo dõi tiến độ)", "Study material (progress followed)"))),
    h("div", { class: "field" }, h("label", { for: "f-attachment" }, t("Tệp đính kèm", "Attachment")),
      h("p", { class: "hint", id: "f-attachment-hint" }, t("PDF, DOCX, XLSX hoặc ảnh, đến 50 MiB.", "PDF, DOCX, XLSX or an image, up to 50 MiB.")),
      h("input", { type: "file", id: "f-attachment", "aria-describedby": "f-attachment-hint" })),
    field("publish_at", t("Hẹn giờ đăng (giờ Việt Nam; để trống: đăng ngay)", "Publish at (Vietnam time; empty: now)"),
      { type: "datetime-local" }),
    h("button", { type: "submit", class: "primary" }, t("Đăng", "Publish")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem(form, "");
    const data = formData(form);
    const body = {
      title: data.title, category: data.category, summary: data.summary || null, body: data.body,
      study: Boolean(data.study),
      audience: [...form.querySelectorAll("input[name=audience]:checked")].map((box) => Number(box.value)),
    };
    const file = form.querySelector("#f-attachment").files[0];
    try {
      const draft = await post("/documents", body); // a draft first: the attachment joins it before anyone sees it
      if (file) await upload(`/documents/${draft.id}/attachments`, file);
      if (data.publish_at) {
        await call("PATCH", `/documents/${draft.id}`, { publish_at: `${data.publish_at}:00+07:00` });
        announce(t("Đã hẹn giờ đăng.", "Scheduled."));
      } else {
        await post(`/documents/${draft.id}/publish`);
        announce(t("Đã đăng văn bản.", "The document is published."));
      }
      form.reset();
    } catch (error) {
      fieldErrors(form, error.details);
      problem(form, error.message);
    }
  });
  show(...heading(t("Đăng văn bản", "Publish a document"), [root]), views("publish", [root]), form);
}
