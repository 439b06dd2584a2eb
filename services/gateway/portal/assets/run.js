// Running a meeting (secretaries and committees): schedule, the rotating check-in QR, answers and check-ins
// recorded for members, votes, minutes.
import { announce, dateTime, field, fieldErrors, formData, h, problem, show, t } from "/assets/dom.js";
import { get, post } from "/assets/api.js";
import { OFFICER_ROLES, action, area, choice, failed, heldOrganizations, notAllowed, section, table } from "/assets/staff.js";

// words in the language chosen when the form is drawn
const kinds = () => [["regular", t("Sinh hoạt thường kỳ", "Regular")], ["thematic", t("Chuyên đề", "Thematic")],
  ["extraordinary", t("Bất thường", "Extraordinary")], ["committee", t("Cấp uỷ", "Committee")]];
const STATUS = { scheduled: ["Sắp họp", "Scheduled"], in_progress: ["Đang họp", "In progress"],
  closed: ["Đã kết thúc", "Closed"], cancelled: ["Đã huỷ", "Cancelled"] };
// the server's default options, in words
const OPTION = { agree: ["Tán thành", "For"], disagree: ["Không tán thành", "Against"], abstain: ["Không biểu quyết", "Abstain"] };
const option = (name) => (OPTION[name] ? t(...OPTION[name]) : name);
const lines = (text) => (text || "").split("\n").map((line) => line.trim()).filter(Boolean);
// the form's local time is Vietnam's: the API wants the offset
const vietnam = (local) => (local ? `${local.length === 16 ? local + ":00" : local}+07:00` : undefined);

export async function run() {
  try {
    const organizations = await heldOrganizations(OFFICER_ROLES);
    if (!organizations.length) return notAllowed();
    await meetingsOf(organizations, organizations[0].id);
  } catch (error) {
    failed(error);
  }
}

async function meetingsOf(organizations, chosen) {
  const page = await get(`/organizations/${chosen}/meetings?limit=50`);
  const picker = organizations.length > 1 ? choice("organization", t("Tổ chức", "Organisation"),
    organizations.map((o) => [o.id, o.name])) : null;
  if (picker) {
    const select = picker.querySelector("select");
    select.value = String(chosen);
    select.addEventListener("change", () => meetingsOf(organizations, Number(select.value)).catch(failed));
  }
  const item = (meeting) => h("li", {},
    h("h3", {}, meeting.title),
    h("p", { class: "meta" }, `${dateTime(meeting.starts_at)} · ${t(...STATUS[meeting.status])}`),
    action(t("Điều hành cuộc họp này", "Run this meeting"), () => meetingView(meeting.id, () => run()),
      { "aria-label": `${t("Điều hành", "Run")}: ${meeting.title}` }));
  show(
    h("h1", {}, t("Điều hành cuộc họp", "Run a meeting")),
    picker,
    section(t("Các cuộc họp", "Meetings"), page.items.length
      ? h("ul", { class: "list" }, page.items.map(item))
      : h("p", {}, t("Chưa có cuộc họp nào.", "No meetings yet."))),
    scheduleForm(chosen, (meeting) => meetingView(meeting.id, () => run())),
  );
}

function scheduleForm(organizationId, done) {
  const repeat = h("div", { class: "check" }, h("input", { type: "checkbox", id: "f-repeat", name: "repeat" }),
    h("label", { for: "f-repeat" }, t("Lặp lại hằng tháng (cùng ngày, cùng giờ)", "Repeat every month (same day and time)")));
  const form = h("form", { class: "card", novalidate: true },
    h("h2", {}, t("Lên lịch họp", "Schedule a meeting")),
    field("title", t("Tên cuộc họp", "Title"), { required: true }),
    choice("kind", t("Loại", "Kind"), kinds()),
    field("starts_at", t("Bắt đầu (giờ Việt Nam)", "Starts (Vietnam time)"), { type: "datetime-local", required: true }),
    field("ends_at", t("Kết thúc (giờ Việt Nam)", "Ends (Vietnam time)"), { type: "datetime-local", required: true }),
    field("location", t("Địa điểm", "Place")),
    field("online_url", t("Đường dẫn họp trực tuyến", "Online meeting link"), { type: "url" }),
    area("agenda", t("Chương trình họp", "Agenda"), { hint: t("Mỗi dòng một nội dung.", "One item a line.") }),
    repeat,
    h("button", { type: "submit", class: "primary" }, t("Lên lịch", "Schedule")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem(form, "");
    const data = formData(form);
    const body = {
      title: data.title, kind: data.kind, starts_at: vietnam(data.starts_at), ends_at: vietnam(data.ends_at),
      location: data.location || null, online_url: data.online_url || null,
      agenda: lines(data.agenda).map((title) => ({ title })),
    };
    if (data.repeat && data.starts_at) {
      body.repeat = { day: Number(data.starts_at.slice(8, 10)), time: data.starts_at.slice(11, 16) };
    }
    try {
      const meeting = await post(`/organizations/${organizationId}/meetings`, body);
      announce(t("Đã lên lịch. Các đảng viên được mời sẽ nhận thông báo.", "Scheduled. The invitees are told."));
      await done(meeting);
    } catch (error) {
      fieldErrors(form, error.details);
      problem(form, error.message);
    }
  });
  return form;
}

async function meetingView(id, back) {
  const meeting = await get(`/meetings/${id}`);
  const again = () => meetingView(id, back);
  const running = meeting.status === "scheduled" || meeting.status === "in_progress";
  const invitees = h("div", {});
  let present = null;
  const refreshInvitees = async () => {
    const [drawn, count] = await inviteeTable(meeting, refreshInvitees);
    invitees.replaceChildren(drawn);
    // said once per change, not the whole table again
    if (present !== null && count > present) announce(t(`${count} người đã điểm danh.`, `${count} checked in.`));
    present = count;
  };
  await refreshInvitees();
  show(
    h("h1", {}, meeting.title),
    h("p", {}, h("button", { type: "button", class: "link", onclick: back }, t("← Các cuộc họp", "← Meetings"))),
    h("dl", {},
      h("dt", {}, t("Thời gian", "When")), h("dd", {}, `${dateTime(meeting.starts_at)} – ${dateTime(meeting.ends_at)}`),
      h("dt", {}, t("Địa điểm", "Place")), h("dd", {}, meeting.location || meeting.online_url || "—"),
      h("dt", {}, t("Trạng thái", "Status")), h("dd", { class: "meeting-status" }, t(...STATUS[meeting.status]))),
    meeting.agenda.length ? section(t("Chương trình", "Agenda"),
      h("ol", {}, meeting.agenda.map((item) => h("li", {}, item.title)))) : null,
    h("div", { class: "actions" },
      running ? action(t("Hiện mã QR điểm danh", "Show the check-in QR code"), () => qrScreen(meeting, again)) : null,
      meeting.status === "scheduled" ? action(t("Bắt đầu họp", "Start the meeting"), async () => {
        await post(`/meetings/${id}/start`);
        announce(t("Cuộc họp đã bắt đầu.", "The meeting has started."));
        await again();
      }) : null,
      meeting.status === "in_progress" ? action(t("Kết thúc họp", "Close the meeting"), async () => {
        await post(`/meetings/${id}/close`);
        announce(t("Cuộc họp đã kết thúc.", "The meeting is closed."));
        await again();
      }) : null),
    section(t("Người được mời", "Invitees"),
      action(t("Cập nhật danh sách", "Refresh the list"), refreshInvitees), invitees),
    await votesView(meeting, again),
    await minutesView(meeting),
  );
  // check-ins made on members' phones show up while the secretary watches
  const watch = setInterval(() => {
    if (!invitees.isConnected) clearInterval(watch);
    else if (!invitees.contains(document.activeElement)) refreshInvitees().catch(() => {}); // never pull focus away
  }, 5000);
}

async function inviteeTable(meeting, refresh) {
  const page = await get(`/meetings/${meeting.id}/invitees?limit=200`);
  const open = meeting.status !== "closed" && meeting.status !== "cancelled";
  const answer = (rsvp) => (!rsvp ? t("Chưa trả lời", "No answer")
    : rsvp.response === "attending" ? t("Sẽ dự", "Attending") : t("Vắng", "Absent"));
  const record = (invitee, what, body, said) => action(said[0], async () => {
    await post(`/meetings/${meeting.id}/${what}`, { ...body, member_id: invitee.member_id });
    announce(said[1]);
    await refresh();
  }, { "aria-label": `${said[0]}: ${invitee.full_name}` });
  const count = page.items.filter((invitee) => invitee.check_in).length;
  return [table(t("Trả lời và điểm danh", "Answers and check-ins"),
    [t("Họ và tên", "Name"), t("Trả lời", "Answer"), t("Điểm danh", "Check-in"), t("Ghi hộ", "Record for them")],
    page.items.map((invitee) => [
      invitee.full_name || "—",
      answer(invitee.rsvp),
      invitee.check_in ? `${t("Có mặt", "Present")} ${new Date(invitee.check_in.checked_in_at)
        .toLocaleTimeString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit" })}${
        invitee.check_in.late ? " · " + t("muộn", "late") : ""}` : "—",
      open ? h("div", { class: "row-actions" },
        meeting.status === "scheduled" ? record(invitee, "rsvp", { response: "attending" },
          [t("Sẽ dự", "Attending"), t("Đã ghi: sẽ dự.", "Recorded: attending.")]) : null,
        meeting.status === "scheduled" ? record(invitee, "rsvp", { response: "absent" },
          [t("Báo vắng", "Absent"), t("Đã ghi: vắng.", "Recorded: absent.")]) : null,
        invitee.check_in ? null : record(invitee, "check-in", {},
          [t("Điểm danh hộ", "Check in"), t("Đã điểm danh.", "Checked in.")])) : "—",
    ])), count];
}

// full screen, for a projector or a phone held up: the QR code and its six digits, renewed before they expire
async function qrScreen(meeting, back) {
  let timer = null;
  const picture = h("img", { class: "qr", alt: t("Mã QR điểm danh", "Check-in QR code"), width: 320, height: 320 });
  const digits = h("p", { class: "qr-code", "aria-live": "polite" });
  const left = h("p", { class: "meta" });
  const close = h("button", { type: "button" }, t("Đóng mã QR", "Close the QR code"));
  const screen = h("section", { class: "qr-screen", "aria-labelledby": "qr-title" },
    h("h1", { id: "qr-title" }, t("Điểm danh: ", "Check in: ") + meeting.title),
    picture,
    h("p", {}, t("Hoặc nhập mã:", "Or type the code:")), digits, left, close);
  const stop = () => {
    clearTimeout(timer);
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    back();
  };
  close.addEventListener("click", stop);
  screen.addEventListener("keydown", (event) => event.key === "Escape" && stop());
  let shown = false;
  const renew = async () => {
    if (shown && !screen.isConnected) return; // the officer went elsewhere
    try {
      const current = await get(`/meetings/${meeting.id}/check-in-code`);
      picture.src = current.image;
      digits.textContent = current.code.replace(/(\d{3})(\d{3})/, "$1 $2");
      digits.dataset.code = current.code;
      const wait = new Date(current.expires_at) - Date.now();
      left.textContent = t("Mã đổi sau mỗi 30 giây.", "The code changes every 30 seconds.");
      timer = setTimeout(renew, Math.max(1000, wait - 2000)); // a little early: a phone still in time scans it
    } catch (error) {
      left.textContent = error.message;
      timer = setTimeout(renew, 5000);
    }
  };
  await renew();
  show(screen);
  shown = true;
  screen.requestFullscreen?.().catch(() => {});
  close.focus();
}

async function votesView(meeting, again) {
  const page = await get(`/meetings/${meeting.id}/votes`);
  const result = (vote) => vote.results ? h("div", {},
    h("ul", { class: "list" }, Object.entries(vote.results.counts).map(([choiceName, count]) =>
      h("li", {}, `${option(choiceName)}: ${count}`))),
    h("p", { class: "meta" }, t(`${vote.results.cast}/${vote.results.eligible} phiếu, ${vote.results.present} có mặt`,
      `${vote.results.cast}/${vote.results.eligible} ballots, ${vote.results.present} present`),
    " · ", vote.results.quorum_met ? t("đủ số", "quorum met") : t("không đủ số", "no quorum"))) : null;
  const item = (vote) => h("li", {},
    h("h3", {}, vote.question),
    h("p", { class: "meta" }, vote.status === "open" ? t("Đang biểu quyết", "Open") : t("Đã kết thúc", "Closed"),
      vote.secret ? " · " + t("bỏ phiếu kín", "secret ballot") : ""),
    vote.status === "open" ? action(t("Kết thúc biểu quyết", "Close the vote"), async () => {
      await post(`/votes/${vote.id}/close`);
      announce(t("Đã kết thúc biểu quyết.", "The vote is closed."));
      await again();
    }, { "aria-label": `${t("Kết thúc biểu quyết", "Close the vote")}: ${vote.question}` }) : result(vote));
  const open = meeting.status === "scheduled" || meeting.status === "in_progress";
  const form = h("form", { novalidate: true },
    h("h3", {}, t("Mở biểu quyết", "Open a vote")),
    field("question", t("Nội dung biểu quyết", "Question"), { required: true }),
    area("options", t("Các phương án", "Options"), { rows: 3,
      hint: t("Mỗi dòng một phương án; để trống: Tán thành / Không tán thành / Không biểu quyết.",
        "One a line; empty: for / against / abstain.") }),
    h("div", { class: "check" }, h("input", { type: "checkbox", id: "f-secret", name: "secret" }),
      h("label", { for: "f-secret" }, t("Bỏ phiếu kín", "Secret ballot"))),
    h("button", { type: "submit" }, t("Mở biểu quyết", "Open the vote")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem(form, "");
    const data = formData(form);
    const options = lines(data.options);
    try {
      await post(`/meetings/${meeting.id}/votes`, { question: data.question, secret: Boolean(data.secret),
        ...(options.length ? { options } : {}) });
      announce(t("Đã mở biểu quyết.", "The vote is open."));
      await again();
    } catch (error) {
      fieldErrors(form, error.details);
      problem(form, error.message);
    }
  });
  return section(t("Biểu quyết", "Votes"),
    page.items.length ? h("ul", { class: "list" }, page.items.map(item)) : h("p", {}, t("Chưa có biểu quyết.", "No votes yet.")),
    open ? form : null);
}

async function minutesView(meeting) {
  if (meeting.status === "scheduled" || meeting.status === "cancelled") return null;
  const kept = await get(`/meetings/${meeting.id}/minutes`).catch(() => null);
  const form = h("form", { novalidate: true },
    area("body", t("Biên bản", "Minutes"), { required: true, rows: 6 }),
    area("resolutions", t("Nghị quyết", "Resolutions"), { rows: 3, hint: t("Mỗi dòng một nghị quyết.", "One a line.") }),
    h("button", { type: "submit", class: "primary" }, kept ? t("Công bố lại (đính chính)", "Publish again (a correction)")
      : t("Công bố biên bản", "Publish the minutes")));
  if (kept) {
    form.querySelector("#f-body").value = kept.body;
    form.querySelector("#f-resolutions").value = kept.resolutions.join("\n");
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem(form, "");
    const data = formData(form);
    try {
      await post(`/meetings/${meeting.id}/minutes`, { body: data.body, resolutions: lines(data.resolutions) });
      announce(t("Đã công bố biên bản tới người được mời.", "The minutes are published to the invitees."));
      problem(form, "");
    } catch (error) {
      fieldErrors(form, error.details);
      problem(form, error.message);
    }
  });
  return section(t("Biên bản và nghị quyết", "Minutes and resolutions"),
    kept ? h("p", { class: "meta" }, t("Đã công bố ", "Published ") + dateTime(kept.published_at)) : null, form);
}
