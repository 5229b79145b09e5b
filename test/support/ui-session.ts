// Signing in to the operator pages over plain HTTP (no browser): the sign-in form's CSRF token
// and cookie, then the key posted as a person would. For tests that need a session, not a page.
export interface UiSession {
  /** Every cookie the sign-in set (CSRF secret and session), for a `cookie` header. */
  cookie: string;
  /** The session token alone (the `relais_session` cookie's value). */
  sessionToken: string;
  /** A CSRF token that goes with `cookie`, for form posts. */
  csrf: string;
  /** The sign-in's answer: 303 when the key was accepted. */
  status: number;
  /** Where the sign-in sent the browser (its Location header). */
  location: string | null;
}

const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]);

/** `next`: the page to come back to, posted as the sign-in form would (as given, unchecked). */
export async function signInOverHttp(apiUrl: string, key: string, next?: string): Promise<UiSession> {
  const form = await fetch(`${apiUrl}/ui/sign-in`);
  const csrfCookies = cookiesOf(form);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1];
  const signIn = await fetch(`${apiUrl}/ui/sign-in`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: csrf, key, ...(next !== undefined ? { next } : {}) }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookies.join('; ') },
  });
  const cookies = [...csrfCookies, ...cookiesOf(signIn)];
  const session = cookies.find((c) => c.startsWith('relais_session=')) ?? '';
  return { cookie: cookies.join('; '), sessionToken: session.slice('relais_session='.length), csrf, status: signIn.status, location: signIn.headers.get('location') };
}
