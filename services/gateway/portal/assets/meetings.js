// A member's meetings: the list, one meeting (agenda and papers, answer, check-in, opinions, votes, minutes).
import { announce, dateTime, field, formData, h, problem, show, t, textArea } from "/assets/dom.js";
import { call, get, getTagged, optional, post } from "/assets/api.js";
import { loadFailed, section } from "/assets/member.js";
import { keep, kept, queue, queued, unreachable } from "/assets/offline.js";

const STATUS = {
  scheduled: ["Sắp họp", "Scheduled"],
  in_progress: ["Đang họp", "In progress"],
  closed: ["Đã kết thúc", "Ended"],
  cancelled: ["Đã huỷ", "Cancelled"],
};
const KIND = {
  regular: ["Sinh hoạt thường kỳ", "Regular meeting"],
  thematic: ["Sinh hoạt chuyên đề", "Thematic meeting"],
  extraordinary: ["Họp bất thường", "Extraordinary meeting"],
  committee: ["Họp cấp uỷ", "Committee meeting"],
};
const CHOICE = { agree: ["Tán thành", "Agree"], disagree: ["Không tán thành", "Disagree"], abstain: ["Không có ý kiến", "Abstain"] };
const EDITABLE_FOR = 5 * 60 * 1000; // the server's window for editing one's opinion
const QR = /^sotay:checkin:(\d+):(\d{6})$/;

const words = (table, key) => (table[key] ? t(...table[key]) : key);
let me = null;

function summary(meeting) {
  return h(
    "li",
    {},
    h("h2", {}, h("a", { href: `#/meeting/${meeting.id}` }, meeting.title)),
    h("p", { class: "meta" }, `${dateTime(meeting.starts_at)} · ${words(STATUS, meeting.status)}`),
    meeting.location ? h("p", { class: "meta" }, meeting.location) : null,
    meeting.my_rsvp ? h("p", {}, answerText(meeting.my_rsvp)) : h("p", { class: "badge" }, t("Chưa trả lời", "Not answered")),
  );
}

function answerText(rsvp) {
  return rsvp.response === "attending"
    ? t("Bạn sẽ tham dự.", "You will attend.")
    : t("Bạn báo vắng: ", "You will be absent: ") + (rsvp.reason || "");
}

export async function meetings() {
  try {
    // from a day ago: a meeting under way stays on top until it ends
    const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    let coming, past, offline = false;
    try {
      [coming, past] = await Promise.all([
        get(`/me/meetings?from=${encodeURIComponent(since)}&limit=50`),
        get(`/me/attendance`).catch(() => null),
      ]);
      await keep("meetings", coming);
    } catch (error) {
      if (!unreachable(error) || !(coming = await kept("meetings"))) throw error;
      offline = true;
    }
    show(
      h("h1", {}, t("Cuộc họp", "Meetings")),
      offline ? h("p", { class: "problem" }, t("Không có mạng: bản lưu trên máy.", "No connection: the copy kept on this device.")) : null,
      coming.items.length
        ? h("ul", { class: "list meetings" }, coming.items.map(summary))
        : h("p", {}, t("Chưa có cuộc họp nào sắp tới.", "No meetings coming up.")),
      past && past.items.length
        ? section(
            t("Đã họp", "Past meetings"),
            h("p", {}, t(`Dự ${past.attended} trên ${past.meetings} cuộc họp.`, `Attended ${past.attended} of ${past.meetings}.`)),
            h("ul", { class: "list" }, past.items.map((item) =>
              h("li", {}, h("a", { href: `#/meeting/${item.meeting_id}` }, item.title), " · ", dateTime(item.starts_at), " · ",
                item.attended ? t("Có mặt", "Attended") : item.excused ? t("Vắng có lý do", "Excused") : t("Vắng", "Absent")))),
          )
        : null,
    );
  } catch (error) {
    loadFailed(error);
  }
}

function answerForm(meeting) {
  const mine = meeting.my_rsvp;
  const open = meeting.status === "scheduled";
  // once the meeting has started the answer is history: what was said, no form to fill in
  if (!open) return section(t("Trả lời lời mời", "Your answer"),
    h("p", {}, mine ? answerText(mine) : t("Bạn đã không trả lời lời mời.", "You did not answer the invitation.")));
  const radio = (value, label) =>
    h("div", { class: "check" },
      h("input", { type: "radio", name: "response", id: `r-${value}`, value, checked: mine && mine.response === value }),
      h("label", { for: `r-${value}` }, label));
  const reason = textArea("reason", t("Lý do vắng mặt", "Why you will be absent"), { value: mine && mine.reason });
  const form = h("form", { novalidate: true },
    h("fieldset", {}, h("legend", {}, t("Bạn có tham dự không?", "Will you attend?")),
      radio("attending", t("Tôi sẽ tham dự", "I will attend")), radio("absent", t("Tôi vắng mặt", "I will be absent"))),
    reason,
    h("button", { type: "submit" }, mine ? t("Đổi câu trả lời", "Change my answer") : t("Gửi câu trả lời", "Send my answer")));
  const showReason = () => (reason.hidden = form.response.value !== "absent");
  form.addEventListener("change", showReason);
  showReason();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = formData(form);
    if (!data.response) return problem(form, t("Hãy chọn tham dự hoặc vắng mặt.", "Choose attending or absent."));
    try {
      await post(`/meetings/${meeting.id}/rsvp`, { response: data.response, reason: data.response === "absent" ? data.reason || null : null });
      announce(t("Đã gửi câu trả lời.", "Your answer is sent."));
      meeting_(meeting.id);
    } catch (error) {
      problem(form, detailed(error));
    }
  });
  return section(t("Trả lời lời mời", "Your answer"), mine ? h("p", {}, answerText(mine)) : null,
    h("p", { class: "meta" }, t("Đổi được đến giờ họp.", "You can change it until the start.")), form);
}

// the server's message with its per-field reasons, for a form without a slot per field
function detailed(error) {
  if (unreachable(error)) return t("Không có mạng. Hãy thử lại khi có mạng.", "No connection. Try again when you are online.");
  const reasons = Object.values(error.details || {}).flat();
  return [error.message, ...reasons].join(" ");
}

function checkInSection(meeting) {
  if (meeting.my_check_in) {
    return section(t("Điểm danh", "Check-in"), h("p", {}, t("Đã điểm danh lúc ", "Checked in at ") + dateTime(meeting.my_check_in.checked_in_at)
      + (meeting.my_check_in.late ? t(" (muộn)", " (late)") : "")));
  }
  if (!["scheduled", "in_progress"].includes(meeting.status)) return null;
  const send = async (code, form) => {
    try {
      await post(`/meetings/${meeting.id}/check-in`, { code });
      announce(t("Đã điểm danh.", "You are checked in."));
      meeting_(meeting.id);
    } catch (error) {
      problem(form, error.message);
    }
  };
  const form = h("form", { novalidate: true },
    field("code", t("Mã điểm danh (6 chữ số, trên màn hình của bí thư)", "Check-in code (6 digits, on the secretary's screen)"),
      { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6 }),
    h("button", { type: "submit" }, t("Điểm danh", "Check in")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = formData(form).code.replace(/\s/g, "");
    if (!/^\d{6}$/.test(code)) return problem(form, t("Mã gồm 6 chữ số.", "The code is 6 digits."));
    send(code, form);
  });
  const scan = "BarcodeDetector" in window && navigator.mediaDevices
    ? h("button", { type: "button", onclick: () => scanner(meeting, form, send) }, t("Quét mã QR bằng camera", "Scan the QR code with the camera"))
    : null;
  return section(t("Điểm danh", "Check-in"), scan, form);
}

// The camera until a QR code of this meeting is seen (or the member stops)
async function scanner(meeting, form, send) {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch {
    return problem(form, t("Không mở được camera. Hãy nhập mã.", "The camera could not be opened. Type the code instead."));
  }
  const video = h("video", { playsinline: true, muted: true, "aria-label": t("Hình từ camera", "Camera view") });
  video.srcObject = stream;
  let done = false;
  const stop = () => {
    done = true;
    stream.getTracks().forEach((track) => track.stop());
    box.remove();
  };
  const box = h("div", { class: "scanner" }, video,
    h("button", { type: "button", onclick: stop }, t("Dừng quét", "Stop scanning")));
  form.before(box);
  await video.play().catch(() => {}); // a still frame is enough for the detector
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  while (!done) {
    const found = (await detector.detect(video).catch(() => [])).map((code) => QR.exec(code.rawValue)).find(Boolean);
    if (found && Number(found[1]) === meeting.id) {
      stop();
      return send(found[2], form);
    }
    if (found) problem(form, t("Mã QR này của cuộc họp khác.", "This QR code is another meeting's."));
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

// A paper, read through the meeting (everyone who sees the meeting may, whatever the document's audience)
const paperLink = (meeting, paper) =>
  h("a", { href: `#/document/${paper.id}/meeting/${meeting.id}` }, paper.title || t(`Tài liệu số ${paper.id}`, `Document ${paper.id}`));

async function agendaSection(meeting, opinions, waiting) {
  // an agenda set before papers carried their titles: the titles from the papers themselves
  const titles = new Map();
  const untitled = [...new Set(meeting.agenda.filter((item) => !(item.papers || []).length).flatMap((item) => item.document_ids))];
  await Promise.all(untitled.map(async (id) => titles.set(id, await optional(`/meetings/${meeting.id}/papers/${id}`)
    .catch(() => kept(`document/${id}`)))));
  const papersOf = (item) => ((item.papers || []).length ? item.papers : item.document_ids.map((id) => ({ id, title: (titles.get(id) || {}).title })));
  const general = { id: null, title: t("Ý kiến chung", "General opinions"), document_ids: [] };
  return section(
    t("Chương trình và ý kiến", "Agenda and opinions"),
    h("ol", { class: "agenda" }, [...meeting.agenda, general].map((item) =>
      h("li", {},
        h("h3", {}, item.title),
        item.document_ids.length
          ? h("ul", { class: "links" }, papersOf(item).map((paper) => h("li", {}, paperLink(meeting, paper))))
          : null,
        opinionsOf(meeting, item, opinions, waiting)))),
  );
}

function opinionsOf(meeting, item, opinions, waiting) {
  const here = opinions.filter((o) => o.agenda_item_id === item.id);
  const replies = (parent) => here.filter((o) => o.reply_to === parent.id);
  const one = (opinion) => h("li", { class: opinion.pinned ? "pinned" : null },
    h("p", { class: "meta" }, opinion.full_name || t("Đảng viên", "A member"), " · ", dateTime(opinion.created_at),
      opinion.edited_at ? t(" · đã sửa", " · edited") : "", opinion.pinned ? t(" · được ghim", " · pinned") : ""),
    h("p", { class: "said" }, opinion.hidden && opinion.body === null ? t("(Ý kiến đã bị ẩn)", "(Opinion hidden)") : opinion.body),
    mine(opinion) ? editButton(meeting, opinion) : null,
    open(meeting) && opinion.reply_to === null ? replyButton(meeting, item, opinion) : null,
    replies(opinion).length ? h("ul", { class: "replies" }, replies(opinion).map(one)) : null);
  const top = here.filter((o) => o.reply_to === null).sort((a, b) => b.pinned - a.pinned);
  const pending = waiting.filter((w) => (w.body.agenda_item_id ?? null) === item.id);
  return h("div", { class: "opinions" },
    top.length ? h("ul", { class: "list" }, top.map(one)) : h("p", { class: "meta" }, t("Chưa có ý kiến.", "No opinions yet.")),
    pending.length ? h("ul", { class: "list" }, pending.map((w) => h("li", {}, h("p", { class: "said" }, w.body.body),
      h("p", { class: "badge" }, t("Chờ gửi khi có mạng", "Waiting for a connection"))))) : null,
    open(meeting) ? opinionForm(meeting, item, null) : null);
}

const open = (meeting) => ["scheduled", "in_progress"].includes(meeting.status);
const mine = (opinion) => me && opinion.member_id === me.id && Date.now() - Date.parse(opinion.created_at) < EDITABLE_FOR;

function opinionForm(meeting, item, parent, container) {
  const key = `${item.id ?? "general"}-${parent ? parent.id : "new"}`;
  const label = parent ? t("Trả lời ý kiến này", "Reply to this opinion") : t(`Ý kiến của bạn về “${item.title}”`, `Your opinion on “${item.title}”`);
  const form = h("form", { class: "opinion", novalidate: true },
    textArea("body", label, { id: `o-${key}`, required: true, maxlength: 10000 }),
    h("button", { type: "submit" }, parent ? t("Gửi trả lời", "Send the reply") : t("Gửi ý kiến", "Send the opinion")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = formData(form).body;
    if (!text) return problem(form, t("Hãy viết ý kiến.", "Write your opinion first."));
    const body = { body: text, agenda_item_id: item.id, reply_to: parent ? parent.id : null };
    try {
      await post(`/meetings/${meeting.id}/opinions`, body);
      announce(t("Đã gửi ý kiến.", "Your opinion is sent."));
    } catch (error) {
      if (!unreachable(error)) return problem(form, detailed(error));
      await queue("opinion", { method: "POST", path: `/meetings/${meeting.id}/opinions`, body });
      announce(t("Đã lưu trên máy, sẽ gửi khi có mạng.", "Saved on this device; it will be sent when you are online."));
    }
    meeting_(meeting.id);
  });
  if (container) container.replaceChildren(form);
  return form;
}

function replyButton(meeting, item, opinion) {
  const place = h("div", {});
  const button = h("button", { type: "button", class: "link", onclick: () => {
    opinionForm(meeting, item, opinion, place).querySelector("textarea").focus();
  } }, t("Trả lời", "Reply"));
  return [button, place];
}

function editButton(meeting, opinion) {
  const place = h("div", {});
  const button = h("button", { type: "button", class: "link", onclick: () => {
    const form = h("form", { novalidate: true },
      textArea("body", t("Sửa ý kiến (trong 5 phút)", "Edit your opinion (for 5 minutes)"), { id: `e-${opinion.id}`, value: opinion.body }),
      h("button", { type: "submit" }, t("Lưu", "Save")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await call("PATCH", `/opinions/${opinion.id}`, { body: formData(form).body });
        announce(t("Đã sửa ý kiến.", "Your opinion is changed."));
        meeting_(meeting.id);
      } catch (error) {
        problem(form, detailed(error));
      }
    });
    place.replaceChildren(form);
    form.querySelector("textarea").focus();
  } }, t("Sửa", "Edit"));
  return [button, place];
}

function voteItem(vote) {
  const head = h("h3", {}, vote.question);
  if (vote.status === "closed" && vote.results) {
    const r = vote.results;
    return h("li", {}, head,
      h("table", { class: "results" },
        h("caption", {}, t("Kết quả biểu quyết", "Results")),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Lựa chọn", "Choice")), h("th", { scope: "col" }, t("Số phiếu", "Votes")))),
        h("tbody", {}, vote.options.map((option) =>
          h("tr", {}, h("th", { scope: "row" }, words(CHOICE, option)), h("td", {}, String(r.counts[option] || 0)))))),
      h("p", { class: "meta" }, t(`Đã bỏ ${r.cast} trên ${r.eligible} phiếu; có mặt ${r.present}. `, `${r.cast} of ${r.eligible} voted; ${r.present} present. `),
        r.quorum_met ? t("Đủ số lượng.", "Quorum met.") : t("Chưa đủ số lượng.", "Quorum not met.")));
  }
  if (vote.my_ballot_cast) return h("li", {}, head, h("p", {}, t("Bạn đã bỏ phiếu. Kết quả có khi biểu quyết kết thúc.", "You have voted. Results come when the vote closes.")));
  if (vote.status !== "open") return h("li", {}, head, h("p", {}, t("Biểu quyết đã kết thúc.", "The vote is closed.")));
  const form = h("form", { novalidate: true },
    h("fieldset", {}, h("legend", {}, t("Lựa chọn của bạn", "Your choice") + (vote.secret ? t(" (bỏ phiếu kín)", " (secret ballot)") : "")),
      vote.options.map((option, n) => h("div", { class: "check" },
        h("input", { type: "radio", name: "choice", id: `v-${vote.id}-${n}`, value: option }),
        h("label", { for: `v-${vote.id}-${n}` }, words(CHOICE, option))))),
    h("button", { type: "submit" }, t("Bỏ phiếu", "Cast my ballot")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { choice } = formData(form);
    if (!choice) return problem(form, t("Hãy chọn một phương án.", "Choose one option."));
    try {
      await post(`/votes/${vote.id}/ballots`, { choice });
      announce(t("Đã bỏ phiếu.", "Your ballot is cast."));
      meeting_(vote.meeting_id);
    } catch (error) {
      problem(form, detailed(error));
    }
  });
  return h("li", {}, head, form);
}

// the meeting screen again (after an answer, a ballot…), keeping the place on the page
function meeting_(id) {
  return meeting(String(id), true);
}

let polling = null;
let shown = ""; // what the screen shows of votes, minutes and opinions: a look that finds it unchanged redraws nothing
// the meeting's ETag at the last full read (with its id and the opinions waiting here): an invitee's version changes
// with its votes, ballots, opinions and minutes too, so a look that finds it unchanged reads nothing else
let looked = "";
let read = {}; // the votes, minutes and opinions last read, with the meeting's `activity` then

// `quietly`: the periodic look while the meeting runs, which redraws (moving the focus) only when something changed;
// it reads GET /meetings/{id} alone (revalidated by the browser's cache) unless its version changed
export async function meeting(id, again = false, quietly = false) {
  clearTimeout(polling);
  try {
    let found, votes, minutes, opinions, offline = false;
    const waiting = (await queued("opinion")).filter((w) => w.path === `/meetings/${id}/opinions`);
    try {
      me ||= await get("/me");
      const first = await getTagged(`/meetings/${id}`);
      found = first.data;
      // no ETag (an officer who is not invited): their answer has no version, so all is read every time
      const look = first.etag && `${id} ${first.etag} ${waiting.length}`;
      if (quietly && look && look === looked) return poll(found);
      // a check-in moves the counts, not what the three below show: read those only when `activity` moved
      const screen = found.activity && `${id} ${found.activity} ${waiting.length}`;
      if (quietly && screen && screen === read.screen) {
        ({ votes, minutes, opinions } = read);
      } else {
        [votes, minutes, opinions] = await Promise.all([
          get(`/meetings/${id}/votes`),
          optional(`/meetings/${id}/minutes`),
          get(`/meetings/${id}/opinions?limit=200`),
        ]);
      }
      read = { screen, votes, minutes, opinions };
      looked = look || "";
      await keep(`meeting/${id}`, { found, votes, minutes, opinions });
    } catch (error) {
      const copy = unreachable(error) && (await kept(`meeting/${id}`));
      if (!copy) throw error;
      ({ found, votes, minutes, opinions } = copy);
      looked = "";
      read = {};
      offline = true;
    }
    const state = JSON.stringify([found.status, votes, minutes, opinions.items, waiting.length]);
    const changed = state !== shown;
    shown = state;
    if (quietly && !changed) return poll(found);
    if (quietly) announce(t("Cuộc họp có cập nhật mới.", "The meeting has news."));
    const where = window.scrollY;
    show(
      h("p", {}, h("a", { href: "#/meetings" }, t("← Các cuộc họp", "← Meetings"))),
      offline ? h("p", { class: "problem" }, t("Không có mạng: bản lưu trên máy. Ý kiến bạn viết sẽ được gửi khi có mạng.",
        "No connection: the copy kept on this device. Opinions you write are sent when you are online.")) : null,
      h("h1", {}, found.title),
      h("p", { class: "meta" }, `${words(KIND, found.kind)} · ${words(STATUS, found.status)}`),
      h("dl", {},
        h("dt", {}, t("Thời gian", "When")), h("dd", {}, `${dateTime(found.starts_at)} – ${dateTime(found.ends_at)}`),
        found.location ? [h("dt", {}, t("Địa điểm", "Where")), h("dd", {}, found.location)] : null,
        found.online_url ? [h("dt", {}, t("Họp trực tuyến", "Online")), h("dd", {}, h("a", { href: found.online_url, rel: "noopener noreferrer" }, found.online_url))] : null,
        h("dt", {}, t("Tham dự", "Attending")), h("dd", {}, t(`${found.attending} / ${found.invited} người được mời`, `${found.attending} of ${found.invited} invited`))),
      found.status === "cancelled" ? h("p", { class: "problem" }, t("Cuộc họp đã huỷ: ", "Cancelled: ") + (found.cancel_reason || "")) : null,
      found.status === "cancelled" ? null : answerForm(found),
      checkInSection(found),
      await agendaSection(found, opinions.items, waiting),
      votes.items.length ? section(t("Biểu quyết", "Votes"), h("ul", { class: "list" }, votes.items.map(voteItem))) : null,
      section(t("Biên bản", "Minutes"), minutes
        ? [h("p", { class: "said" }, minutes.body),
           minutes.resolutions.length ? [h("h3", {}, t("Nghị quyết", "Resolutions")), h("ul", {}, minutes.resolutions.map((r) => h("li", {}, r)))] : null,
           (minutes.papers || []).length ? [h("h3", {}, t("Văn bản kèm theo", "Documents with the minutes")),
             h("ul", { class: "links" }, minutes.papers.map((paper) => h("li", {}, paperLink(found, paper))))] : null,
           h("p", { class: "meta" }, t("Công bố lúc ", "Published ") + dateTime(minutes.published_at))]
        : h("p", {}, t("Chưa có biên bản.", "No minutes yet."))),
      h("p", {}, h("a", { href: `#/notebook/meeting/${found.id}` }, t("Ghi chú về cuộc họp này", "Write a note about this meeting"))),
    );
    if (again) window.scrollTo(0, where);
    poll(found);
  } catch (error) {
    if (!quietly) loadFailed(error);
  }
}

// while it runs, votes open and close: look again now and then while the member stays on its screen
function poll(found) {
  if (found.status !== "in_progress") return;
  polling = setTimeout(() => {
    const writing = document.activeElement && document.activeElement.closest("form");
    if (location.hash !== `#/meeting/${found.id}`) return;
    if (writing) poll(found);
    else meeting(String(found.id), true, true);
  }, globalThis.SOTAY_LOOK_EVERY_MS || 15000); // a browser test looks more often
}
