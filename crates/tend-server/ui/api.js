// The one way the pages reach the daemon: same-origin requests with the session cookie and
// the CSRF header the daemon requires of cookie-authenticated changes.

/** A refused or failed request: the API's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const unauthorizedListeners = new Set();

/** Calls `listener` whenever a request comes back 401 (no or expired session). */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
}

/**
 * `method` on `/api/v1` + `path`. `body`: an object (sent as JSON) or `{ text, type }` (sent
 * as is). Resolves with the decoded JSON answer; rejects with an [ApiError].
 */
export async function api(method, path, body) {
  const headers = { 'X-Tend-Csrf': '1' };
  let payload;
  if (body !== undefined && body !== null && typeof body.text === 'string') {
    headers['Content-Type'] = body.type;
    payload = body.text;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method, headers, body: payload, credentials: 'same-origin', cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, 'unreachable', `The daemon cannot be reached (${error.message}).`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.status === 401) {
    for (const listener of unauthorizedListeners) listener();
  }
  if (!response.ok) {
    const error = data && data.error;
    throw new ApiError(response.status, error ? error.code : `http_${response.status}`,
      error ? error.message : (text || response.statusText));
  }
  return data;
}

/** `encodeURIComponent` for a path segment. */
export const seg = encodeURIComponent;
