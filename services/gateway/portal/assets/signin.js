// Signing in: the citizen ID and password, the first sign-in and a forgotten password (a code by SMS), VNeID.
import { announce, field, fieldErrors, formData, h, problem, show, side, t } from "/assets/dom.js";
import { ApiError, get, post, signIn } from "/assets/api.js";
import { go } from "/assets/app.js";

// identity's password policy, fetched once (GET /auth/password-policy); these figures until it answers
const policy = { min_length: 8, max_length: 128, rules: {} };
let countdown = null;

function submit(label) {
  return h("button", { type: "submit", class: "primary" }, label);
}

// 429: the form waits out Retry-After, counting down, instead of showing an error
function wait(form, seconds) {
  const button = form.querySelector("button[type=submit]");
  const note = form.querySelector(".wait") || h("p", { class: "wait", role: "timer", "aria-live": "off" });
  form.append(note);
  button.disabled = true;
  clearInterval(countdown);
  let left = seconds;
  const tick = () => {
    note.textContent = t(
      `Bạn đã thử nhiều lần. Hãy chờ ${left} giây rồi thử lại.`,
      `Too many tries. Please wait ${left} seconds and try again.`,
    );
    if (left-- <= 0) {
      clearInterval(countdown);
      note.remove();
      button.disabled = false;
      announce(t("Bạn có thể thử lại.", "You can try again."));
    }
  };
  tick();
  announce(note.textContent);
  countdown = setInterval(tick, 1000);
}

function failed(form, error, messages = {}) {
  if (!(error instanceof ApiError)) {
    problem(form, t("Không kết nối được. Hãy kiểm tra mạng rồi thử lại.", "No connection. Check the network and try again."));
    return;
  }
  if (error.status === 429) {
    problem(form, "");
    wait(form, error.retryAfter || 60);
    return;
  }
  fieldErrors(form, error.status === 400 ? error.details : {});
  problem(form, messages[error.code] || error.message);
}

export function signInScreen() {
  const form = h(
    "form",
    { class: "card", novalidate: true },
    field("citizen_id", t("Số định danh cá nhân (12 số)", "Citizen ID (12 digits)"), {
      inputmode: "numeric", autocomplete: "username", required: true, maxlength: 12,
    }),
    field("password", t("Mật khẩu", "Password"), { type: "password", autocomplete: "current-password", required: true }),
    submit(t("Đăng nhập", "Sign in")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem(form, "");
    try {
      await signIn("/auth/login", formData(form));
      go("home");
    } catch (error) {
      failed(form, error, {
        invalid_credentials: t(
          "Số định danh hoặc mật khẩu không đúng. Nếu đây là lần đầu, hãy chọn “Đăng nhập lần đầu”.",
          "Wrong citizen ID or password. If this is your first time, choose “First sign-in”.",
        ),
      });
    }
  });
  show(
    h("h1", {}, t("Đăng nhập", "Sign in")),
    form,
    h(
      "ul",
      { class: "links" },
      h("li", {}, h("a", { href: "#/activate" }, t("Đăng nhập lần đầu", "First sign-in"))),
      h("li", {}, h("a", { href: "#/forgot" }, t("Quên mật khẩu", "Forgotten password"))),
    ),
    h("a", { class: "button vneid", href: "/api/v1/auth/vneid/login?portal=1" },
      t("Đăng nhập bằng VNeID", "Sign in with VNeID")),
  );
}

// Live reasons while typing (length); the policy's other rules are listed, the server checks them on submit
async function passwordReasons(input, list) {
  Object.assign(policy, await get("/auth/password-policy").catch(() => ({})));
  const update = () => {
    const length = [...input.value.normalize("NFC")].length;
    const { min_length: min, max_length: max } = policy;
    const reasons = [];
    if (length < min) reasons.push(t(`Cần ít nhất ${min} ký tự (còn thiếu ${min - length}).`,
      `At least ${min} characters (${min - length} more).`));
    if (length > max) reasons.push(t(`Tối đa ${max} ký tự.`, `At most ${max} characters.`));
    // the refusal's own words, but for "common", which reads as a verdict before anything was refused
    const others = ["citizen_id", "phone", "date_of_birth"].filter((code) => policy.rules[code]);
    list.replaceChildren(
      ...(reasons.length ? reasons : [t("Độ dài đạt yêu cầu.", "Long enough.")]).map((text) => h("li", {}, text)),
      h("li", { class: "rule" }, t("Không dùng mật khẩu phổ biến, dễ đoán.", "Not a common, easy-to-guess password.")),
      ...others.map((code) => h("li", { class: "rule" }, side(policy.rules[code]))),
    );
  };
  input.addEventListener("input", update);
  update();
}

// The first sign-in and a forgotten password: a code by SMS, then a new password
function codeFlow({ title, start, intro }) {
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("p", {}, intro),
    field("citizen_id", t("Số định danh cá nhân (12 số)", "Citizen ID (12 digits)"), {
      inputmode: "numeric", autocomplete: "username", required: true, maxlength: 12,
    }),
    h(
      "details",
      {},
      h("summary", {}, t("Hồ sơ của tôi chưa có số điện thoại", "My record has no phone number")),
      field("phone", t("Số điện thoại di động của tôi", "My mobile number"), {
        type: "tel", autocomplete: "tel", inputmode: "tel",
        hint: t("Chi bộ sẽ xác nhận số này trước khi gửi mã.", "Your branch confirms this number before a code is sent."),
      }),
    ),
    submit(t("Gửi mã", "Send the code")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem(form, "");
    const body = formData(form);
    if (!body.phone) delete body.phone;
    try {
      const answer = await post(start, body);
      answer.status === "pending_approval" ? pending(title, start, answer) : verify(title, start, answer);
    } catch (error) {
      failed(form, error);
    }
  });
  show(h("h1", {}, title), form, h("p", {}, h("a", { href: "#/" }, t("Quay lại đăng nhập", "Back to sign-in"))));
}

function pending(title, start, answer) {
  const check = h("button", { type: "button", class: "primary" }, t("Kiểm tra lại", "Check again"));
  const note = h("p", { role: "status" });
  check.addEventListener("click", async () => {
    const now = await get(`/auth/activation/${answer.activation_id}`).catch(() => answer);
    if (now.status === "code_sent") verify(title, start, now);
    else note.textContent = now.status === "denied"
      ? t("Chi bộ chưa xác nhận được số này. Hãy liên hệ bí thư chi bộ.", "Your branch could not confirm this number. Please contact your branch secretary.")
      : t("Chưa có xác nhận. Hãy thử lại sau.", "Not confirmed yet. Please try again later.");
  });
  show(
    h("h1", {}, title),
    h(
      "div",
      { class: "card" },
      h("h2", {}, t("Đang chờ chi bộ xác nhận", "Waiting for your branch to confirm")),
      h("p", {}, t(
        `Bí thư chi bộ sẽ xác nhận số điện thoại ${answer.destination}. Khi được xác nhận, mã gồm 6 chữ số sẽ được gửi tới số đó bằng tin nhắn. Bạn có thể đóng trang này và quay lại sau.`,
        `Your branch secretary will confirm the phone ${answer.destination}. Once confirmed, a 6-digit code is sent to it by SMS. You may close this page and come back later.`,
      )),
      check,
      note,
      h("p", {}, h("a", { href: "#/" }, t("Quay lại đăng nhập", "Back to sign-in"))),
    ),
  );
}

function verify(title, start, answer) {
  const reasons = h("ul", { class: "reasons", id: "password-reasons", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("p", {}, t(
      `Nếu số định danh là của một đảng viên, mã gồm 6 chữ số đã được gửi tới ${answer.destination}. Nếu đơn vị của bạn chưa triển khai Sổ tay, bạn sẽ được báo qua tin nhắn khi nào có thể dùng.`,
      `If the citizen ID is a member's, a 6-digit code was sent to ${answer.destination}. If your organisation has not started using Sổ tay yet, an SMS will tell you when.`,
    )),
    field("otp", t("Mã xác nhận", "Code"), { inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6, required: true }),
    field("new_password", t("Mật khẩu mới", "New password"), {
      type: "password", autocomplete: "new-password", required: true, "aria-describedby": "password-reasons",
    }),
    reasons,
    submit(t("Xác nhận", "Confirm")),
  );
  passwordReasons(form.querySelector("#f-new_password"), reasons);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem(form, "");
    try {
      await signIn(`${start}/${answer.activation_id}/verify`, formData(form));
      go("home");
    } catch (error) {
      if (error.code !== "weak_password") return failed(form, error);
      reasons.replaceChildren(...Object.values(error.details).flat().map((text) => h("li", {}, side(String(text)))));
      problem(form, side(error.message));
    }
  });
  show(h("h1", {}, title), form);
  form.querySelector("#f-otp").focus();
}

export function activation() {
  codeFlow({
    title: t("Đăng nhập lần đầu", "First sign-in"),
    start: "/auth/activation",
    intro: t("Nhập số định danh. Chúng tôi gửi mã qua tin nhắn tới số điện thoại trên hồ sơ đảng viên của bạn.",
      "Enter your citizen ID. We send a code by SMS to the phone on your party member record."),
  });
}

export function forgotten() {
  codeFlow({
    title: t("Quên mật khẩu", "Forgotten password"),
    start: "/auth/password/forgot",
    intro: t("Nhập số định danh. Chúng tôi gửi mã qua tin nhắn tới số điện thoại đã xác minh của bạn.",
      "Enter your citizen ID. We send a code by SMS to your confirmed phone."),
  });
}
