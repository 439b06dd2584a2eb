// The shell for an offline start: the page and its files. API answers are never kept (they are personal).
const SHELL = [
  "/",
  "/manifest.webmanifest",
  "/assets/app.js",
  "/assets/dom.js",
  "/assets/api.js",
  "/assets/signin.js",
  "/assets/member.js",
  "/assets/offline.js",
  "/assets/meetings.js",
  "/assets/documents.js",
  "/assets/notebook.js",
  "/assets/style.css",
  "/assets/icon.svg",
  "/assets/icon-192.png",
  "/assets/staff.js",
  "/assets/run.js",
  "/assets/admin.js",
  "/assets/officer.js",
  "/assets/unsent.js",
];
const CACHE = "sotay-shell-" + SHELL[2].split("?v=")[1];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      // the member's own kept documents and waiting notes (sotay-mine) outlive a release
      .then((names) => names.filter((name) => name.startsWith("sotay-shell-") && name !== CACHE))
      .then((old) => Promise.all(old.map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) {
    return;
  }
  if (event.request.mode === "navigate") {
    // the network first, so a new release shows at once; the kept shell when offline
    event.respondWith(fetch(event.request).catch(() => caches.match("/")));
    return;
  }
  event.respondWith(caches.match(event.request).then((kept) => kept || fetch(event.request)));
});

// Web Push (notify sends {title, body}): shown even when no page is open; a tap opens the notifications
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { body: event.data.text() };
  }
  event.waitUntil(
    self.registration.showNotification(message.title || "Sổ tay", {
      body: message.body || "",
      icon: "/assets/icon-192.png",
      lang: "vi",
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then((open) => {
      const page = open.find((client) => new URL(client.url).origin === self.location.origin);
      return page ? page.focus().then((client) => client.navigate("/#/notifications")) : self.clients.openWindow("/#/notifications");
    }),
  );
});
