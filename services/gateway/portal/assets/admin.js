// The system administrator's screens: the organisation tree with its rollout switchboard, and imports with a live
// progress bar and a downloadable error report.
import { announce, h, problem, show, t } from "/assets/dom.js";
import { get, call, upload } from "/assets/api.js";
import { ADMIN_ROLE, failed, heldOrganizations, notAllowed, section, save, table } from "/assets/staff.js";

const ROLLOUT = { disabled: ["Chưa triển khai", "Disabled"], pilot: ["Thí điểm", "Pilot"], live: ["Đã triển khai", "Live"] };
const LEVEL = { central: ["Trung ương", "Central"], provincial: ["Tỉnh", "Provincial"], grassroots: ["Cơ sở", "Grassroots"],
  branch: ["Chi bộ", "Branch"], party_group: ["Tổ đảng", "Party group"] };
const POLL_MS = 500;

export async function admin() {
  try {
    const [root] = await heldOrganizations([ADMIN_ROLE]);
    if (!root) return notAllowed();
    show(
      h("h1", {}, t("Quản trị", "Administration")),
      importForm(),
      section(t("Cây tổ chức và triển khai", "Organisation tree and rollout"),
        h("p", { class: "hint" }, t("Mở từng cấp để xem các tổ chức trực thuộc. Cấp dưới theo trạng thái triển khai của cấp trên.",
          "Open a level to see the organisations below. Those below follow their committee's rollout.")),
        h("div", { class: "tree" }, h("ul", {}, node(root, true)))),
    );
  } catch (error) {
    failed(error);
  }
}

// one organisation: its name, its rollout and how to switch it, its children when opened
function node(organization, open = false) {
  const children = h("ul", { id: `children-${organization.id}`, hidden: true });
  const label = `${organization.name} (${t(...LEVEL[organization.level])})`;
  const toggle = h("button", { type: "button", class: "link", "aria-expanded": "false",
    "aria-controls": children.id }, label);
  let loaded = false;
  const expand = async (show) => {
    if (show && !loaded) {
      const page = await get(`/organizations/${organization.id}/children`);
      children.replaceChildren(...(page.items.length ? page.items.map((child) => node(child))
        : [h("li", { class: "meta" }, t("Không có tổ chức trực thuộc.", "Nothing below."))]));
      loaded = true;
    }
    children.hidden = !show;
    toggle.setAttribute("aria-expanded", String(show));
  };
  toggle.addEventListener("click", () => expand(children.hidden).catch((error) => announce(error.message)));
  const state = h("span", { class: "badge" }, t(...ROLLOUT[organization.rollout]));
  const selectId = `rollout-${organization.id}`;
  const select = h("select", { id: selectId },
    Object.entries(ROLLOUT).map(([value, words]) => h("option", { value, selected: value === organization.rollout }, t(...words))));
  const apply = h("button", { type: "button" }, t("Đổi", "Switch"));
  apply.setAttribute("aria-label", `${t("Đổi triển khai", "Switch the rollout of")}: ${organization.name}`);
  apply.addEventListener("click", async () => {
    apply.disabled = true;
    try {
      const changed = await call("PUT", `/organizations/${organization.id}/rollout`, { state: select.value });
      organization.rollout = changed.rollout;
      state.textContent = t(...ROLLOUT[changed.rollout]);
      announce(`${organization.name}: ${t(...ROLLOUT[changed.rollout])}`);
    } catch (error) {
      announce(error.message);
    } finally {
      apply.disabled = false;
    }
  });
  const item = h("li", {},
    h("div", { class: "org" }, toggle, state,
      h("label", { for: selectId, class: "visually-hidden" }, `${t("Triển khai", "Rollout")}: ${organization.name}`),
      h("span", { class: "switch" }, select, apply)),
    children);
  if (open) expand(true).catch((error) => announce(error.message));
  return item;
}

function importForm() {
  const progress = h("progress", { max: 1, value: 0, id: "import-progress", "aria-labelledby": "import-progress-label" });
  const said = h("p", { id: "import-progress-label", "aria-live": "polite" });
  const report = h("div", {});
  const form = h("form", { class: "card", novalidate: true },
    h("h2", {}, t("Nhập dữ liệu đảng viên", "Import members")),
    h("div", { class: "field" },
      h("label", { for: "f-file" }, t("Tệp CSV hoặc XLSX (đến 32 MiB)", "A CSV or XLSX file (up to 32 MiB)")),
      h("input", { type: "file", id: "f-file", name: "file", accept: ".csv,.xlsx,text/csv", required: true })),
    h("div", { class: "check" }, h("input", { type: "checkbox", id: "f-dry_run", name: "dry_run" }),
      h("label", { for: "f-dry_run" }, t("Chỉ kiểm tra, chưa nhập", "Check only, import nothing"))),
    h("button", { type: "submit", class: "primary" }, t("Nhập", "Import")),
    h("div", { class: "field" }, said, progress),
    report);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem(form, "");
    const file = form.querySelector("#f-file").files[0];
    if (!file) return problem(form, t("Hãy chọn một tệp.", "Choose a file."));
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    report.replaceChildren();
    try {
      const dryRun = form.querySelector("#f-dry_run").checked;
      const started = await upload(`/imports${dryRun ? "?dry_run=true" : ""}`, file);
      const job = await follow(started.id, progress, said);
      report.replaceChildren(outcome(job, file));
    } catch (error) {
      problem(form, error.message);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// the job's progress until it finishes, polled
async function follow(id, progress, said) {
  for (;;) {
    const job = await get(`/imports/${id}`);
    progress.value = job.progress;
    said.textContent = t(`Đã xử lý ${job.processed_rows}/${job.total_rows} dòng (${Math.round(job.progress * 100)} %)`,
      `${job.processed_rows}/${job.total_rows} rows processed (${Math.round(job.progress * 100)} %)`);
    if (job.status === "completed" || job.status === "failed") return job;
    await new Promise((done) => setTimeout(done, POLL_MS));
  }
}

function outcome(job, file) {
  const errors = job.errors || [];
  return h("div", { role: "status" },
    h("p", {}, job.status === "failed" ? t("Nhập không thành công: ", "The import failed: ") + (job.failure || "")
      : t(`Xong: nhận ${job.accepted} dòng, từ chối ${job.rejected} dòng.`,
        `Done: ${job.accepted} rows accepted, ${job.rejected} rejected.`)),
    errors.length ? table(t("Các dòng bị từ chối", "Rejected rows"),
      [t("Dòng", "Row"), t("Trường", "Field"), t("Lý do", "Reason")],
      errors.map((error) => [String(error.row), error.field || "—", error.message])) : null,
    errors.length ? h("button", { type: "button", onclick: () => errorReport(errors, file).then(save) },
      t("Tải báo cáo lỗi (CSV)", "Download the error report (CSV)")) : null);
}

const quote = (text) => `"${String(text).replaceAll('"', '""')}"`;

// the file's records as written (quoted fields may hold line breaks), the header being record 1
function records(text) {
  const found = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if ((c === "\n" || c === undefined) && !quoted) {
      found.push(text.slice(start, i).replace(/\r$/, ""));
      start = i + 1;
    }
  }
  return found;
}

// the rejected rows as they are in the file, after their row number and reasons; an XLSX's reasons alone
async function errorReport(errors, file) {
  const reasons = new Map();
  for (const error of errors) {
    const said = error.field ? `${error.field}: ${error.message}` : error.message;
    reasons.set(error.row, [...(reasons.get(error.row) || []), said]);
  }
  const csv = /\.csv$/i.test(file.name) || file.type === "text/csv";
  const rows = csv ? records((await file.text()).replace(/^\uFEFF/, "")) : [];
  const lines = [[quote(t("dòng", "row")), quote(t("lỗi", "error")), rows[0] || ""].filter(Boolean).join(",")];
  for (const [row, said] of [...reasons].sort((a, b) => a[0] - b[0])) {
    lines.push([String(row), quote(said.join("; ")), csv ? rows[row - 1] ?? "" : null].filter((x) => x !== null).join(","));
  }
  const name = file.name.replace(/\.\w+$/, "") + "-loi.csv";
  // a byte order mark: spreadsheet programs then read the Vietnamese as UTF-8
  return { blob: new Blob(["\uFEFF" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" }), name };
}
