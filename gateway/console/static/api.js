// The HTTP API from the page (docs/API-NOTES.md): the session cookie goes by itself; the
// CSRF token from the login answer is kept in sessionStorage (gone when the tab closes)
// and sent as x-csrf-token on every state-changing request.
const CSRF_KEY = 'menwei.csrf';
const STAFF_KEY = 'menwei.staff';

let onUnauthorized = () => {};

export const session = {
  get staffId() { return sessionStorage.getItem(STAFF_KEY); },
  get loggedIn() { return sessionStorage.getItem(CSRF_KEY) !== null; },
  clear() { sessionStorage.removeItem(CSRF_KEY); sessionStorage.removeItem(STAFF_KEY); },
};

export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

/** Answers {status, body}; a 401 on anything but login means the session is over. */
export async function request(method, path, body) {
  const headers = { accept: 'application/json' };
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    return { status: 0, body: { error: { code: 'NETWORK', message: { zh: '无法连接网关', en: 'The gateway cannot be reached.' } } } };
  }
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== '/api/login') {
    session.clear();
    onUnauthorized();
  }
  return { status: res.status, body: data };
}

export const get = (path) => request('GET', path);
export const post = (path, body = {}) => request('POST', path, body);

/** Password login, or `{badge: true, desk?}`: the badge just swiped at this desk's reader. */
export async function login(staffId, password) {
  return remember(await request('POST', '/api/login', { staffId, password }));
}

export async function loginByBadge(desk) {
  return remember(await request('POST', '/api/login', desk ? { badge: true, desk } : { badge: true }));
}

function remember(res) {
  if (res.status === 200) {
    sessionStorage.setItem(CSRF_KEY, res.body.csrfToken);
    sessionStorage.setItem(STAFF_KEY, res.body.staffId);
  }
  return res;
}

export async function logout() {
  await request('POST', '/api/logout', {});
  session.clear();
}

/**
 * GET /api/events. EventSource reconnects by itself; `onOpen` runs on every (re)connect,
 * so the page refetches what it may have missed while the stream was down.
 */
export function subscribe(handlers, onOpen, onDown) {
  const source = new EventSource('/api/events');
  for (const [name, fn] of Object.entries(handlers)) {
    source.addEventListener(name, (e) => fn(JSON.parse(e.data)));
  }
  source.addEventListener('open', onOpen);
  source.addEventListener('error', () => onDown(source.readyState === EventSource.CLOSED));
  return () => source.close();
}
