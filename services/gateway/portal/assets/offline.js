// What a member keeps on this device: documents they opened or saved, and what they wrote without a connection
// (sent when it returns; what the server then refuses, listed until dismissed: unsent.js). In the Cache API under one name, which signing out deletes (api.js signOut).
export const MINE = "sotay-mine";

async function store() {
  return caches.open(MINE);
}

// a network failure (no answer at all), as opposed to the server saying no
export function unreachable(error) {
  return !("status" in error);
}

export async function keep(key, data) {
  try {
    await (await store()).put("/mine/" + key, new Response(JSON.stringify(data)));
  } catch {
    // a full or refused store: reading online still works
  }
}

export async function kept(key) {
  try {
    const found = await (await store()).match("/mine/" + key);
    return found ? await found.json() : null;
  } catch {
    return null;
  }
}

// every kept item whose key starts with `prefix`, oldest first
export async function keptAll(prefix) {
  try {
    const cache = await store();
    const requests = (await cache.keys()).filter((r) => new URL(r.url).pathname.startsWith("/mine/" + prefix));
    return Promise.all(requests.map(async (r) => ({ key: new URL(r.url).pathname.slice(6), ...(await (await cache.match(r)).json()) })));
  } catch {
    return [];
  }
}

export async function forget(key) {
  try {
    await (await store()).delete("/mine/" + key);
  } catch {
    // nothing kept
  }
}

// Something to send when the connection returns: `{method, path, body}`, told on screen by the caller
export async function queue(kind, request) {
  const key = `outbox/${kind}/${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  await keep(key, { ...request, queued_at: new Date().toISOString() });
  return key;
}

export function queued(kind) {
  return keptAll(`outbox/${kind}/`);
}

// The device's kept things belong to one member: another member's sign-in (the last one's session ended without
// signing out) starts afresh rather than reading theirs or sending their notes under the new name
export async function claim(owner) {
  const was = await kept("owner");
  if (was && was.id === owner) return;
  if (was) await globalThis.caches?.delete(MINE).catch(() => {});
  await keep("owner", { id: owner });
}

let sending = null;

// the server said no and would say it again: a 4xx but for no session (401), a timeout (408) or a limit (429)
const forGood = (error) => !unreachable(error) && error.status >= 400 && error.status < 500 && ![401, 408, 429].includes(error.status);

// Sends what waits, oldest first: `{sent, refused}`. What the server refuses for good leaves the queue for the
// member's list of what could not be sent (`refused/…`, unsent.js), with the server's reasons, until they dismiss
// it; no connection, no session or a server in trouble (5xx) stops the round and keeps the rest.
// `send(method, path, body)` is api.js's call.
export function flush(send) {
  sending ||= (async () => {
    const done = { sent: 0, refused: 0 };
    for (const { key, ...item } of await keptAll("outbox/")) {
      try {
        await send(item.method, item.path, item.body);
        done.sent += 1;
      } catch (error) {
        if (!forGood(error)) break;
        const reasons = [error.message, ...Object.values(error.details || {}).flat(Infinity)].filter((r) => typeof r === "string");
        await keep(key.replace(/^outbox\//, "refused/"), { ...item, reasons, refused_at: new Date().toISOString() });
        done.refused += 1;
      }
      await forget(key);
    }
    return done;
  })().finally(() => {
    sending = null;
  });
  return sending;
}
