// What a member keeps on this device: documents they opened or saved, and what they wrote without a connection
// (sent when it returns). In the Cache API under one name, which signing out deletes (api.js signOut).
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

// Sends what waits, oldest first. What the server refuses for good (400, 404, 409) is dropped: it would never
// pass; no connection, no session (401) or a server in trouble (5xx) stops the round and keeps the rest.
// `send(method, path, body)` is api.js's call.
export function flush(send) {
  sending ||= (async () => {
    let sent = 0;
    for (const item of await keptAll("outbox/")) {
      try {
        await send(item.method, item.path, item.body);
        sent += 1;
      } catch (error) {
        if (unreachable(error) || error.status === 401 || error.status >= 500) break;
      }
      await forget(item.key);
    }
    return sent;
  })().finally(() => {
    sending = null;
  });
  return sending;
}
