// The public API. The access token lives in this module's memory only; the refresh token in an HttpOnly cookie
// the page cannot read, sent by the browser to the refresh path alone.
const BASE = "/api/v1";
const COOKIE_MODE = { "X-Refresh-Mode": "cookie" };
let accessToken = null;
let refreshing = null;

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "unknown";
    this.details = error.details || {};
    this.retryAfter = retryAfter;
  }
}

// `tagged`: the answer with its ETag ({ data, etag }); a 304 the browser's cache revalidated comes back as 200
async function send(method, path, body, extraHeaders = {}, tagged = false) {
  const headers = { Accept: "application/json", ...extraHeaders };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(BASE + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new ApiError(response.status, data, Number(response.headers.get("Retry-After")) || null);
  }
  return tagged ? { data, etag: response.headers.get("ETag") } : data;
}

export async function call(method, path, body, tagged = false) {
  try {
    return await send(method, path, body, {}, tagged);
  } catch (error) {
    if (error.status === 401 && accessToken && (await refresh())) return send(method, path, body, {}, tagged);
    throw error;
  }
}

export const get = (path) => call("GET", path);
export const getTagged = (path) => call("GET", path, undefined, true);
export const post = (path, body) => call("POST", path, body);

// Sign-in answers: the access token is kept here, the refresh token went to the cookie
export async function signIn(path, body) {
  const tokens = await send("POST", path, body, COOKIE_MODE);
  accessToken = tokens.access_token;
  return tokens;
}

// A new access token from the cookie (a reload, or the old one expired); false when there is no session
export function refresh() {
  refreshing ||= send("POST", "/auth/refresh", undefined, COOKIE_MODE)
    .then((tokens) => {
      accessToken = tokens.access_token;
      return true;
    })
    .catch(() => {
      accessToken = null;
      return false;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

export function signedIn() {
  return accessToken !== null;
}

// who the access token speaks for (its `sub`), or null: whose things this device keeps (offline.js claim)
export function memberId() {
  try {
    return JSON.parse(atob(accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).sub;
  } catch {
    return null;
  }
}

export async function signOut() {
  try {
    if (accessToken) await send("POST", "/auth/logout");
  } finally {
    accessToken = null;
    // what offline reading kept on this device, and what waited to be sent (offline.js): personal
    await globalThis.caches?.delete("sotay-mine").catch(() => {});
  }
}

// A section that another service will answer later: null when it does not (yet)
export async function optional(path) {
  try {
    return await get(path);
  } catch (error) {
    if (error.status === 404 || error.status === 501 || error.status === 503) return null;
    throw error;
  }
}

// A file sent or fetched with the access token (uploads, XLSX and CSV downloads): the raw answer
async function sendFile(method, path, body) {
  const once = () =>
    fetch(BASE + path, {
      method,
      body,
      headers: accessToken ? { Authorization: `Bearer ${accessToken}` } : {},
      credentials: "same-origin",
    });
  let response = await once();
  if (response.status === 401 && accessToken && (await refresh())) response = await once();
  if (!response.ok) {
    const text = await response.text();
    throw new ApiError(response.status, text ? JSON.parse(text) : null, null);
  }
  return response;
}

// a file as multipart form data (field `file`); the JSON answer
export async function upload(path, file) {
  const form = new FormData();
  form.append("file", file);
  return (await sendFile("POST", path, form)).json();
}

// a download the browser saves under the server's name (Content-Disposition), or `fallback`
export async function download(path, fallback) {
  const response = await sendFile("GET", path);
  const named = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") || "");
  return { blob: await response.blob(), name: named ? named[1] : fallback };
}

// A file the API serves to the signed-in member alone (the token goes in a header, so not a plain link): saved
// under `name` by the browser
export async function saveDownload(path, name) {
  const { blob } = await download(path, name);
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
