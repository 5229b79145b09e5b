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
  /** The sign-in form's own token and cookie (before the session existed). */
  signInCsrf: string;
  signInCookie: string;
}

/** The browser's cookie jar: each Set-Cookie replaces the cookie of that name; an expired one removes it. */
function keep(jar: Map<string, string>, res: Response): Map<string, string> {
  for (const header of res.headers.getSetCookie()) {
    const [pair, ...attributes] = header.split(';');
    const name = pair.slice(0, pair.indexOf('='));
    const expired = attributes.some(
      (a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) <= Date.now()),
    );
    if (expired) jar.delete(name);
    else jar.set(name, pair);
  }
  return jar;
}
const header = (jar: Map<string, string>) => [...jar.values()].join('; ');
const tokenOf = async (res: Response) => /name="_csrf" value="([^"]+)"/.exec(await res.text())![1];

/** `next`: the page to come back to, posted as the sign-in form would (as given, unchecked). */
export async function signInOverHttp(apiUrl: string, key: string, next?: string): Promise<UiSession> {
  const jar = new Map<string, string>();
  const form = await fetch(`${apiUrl}/ui/sign-in`);
  keep(jar, form);
  const signInCsrf = await tokenOf(form);
  const signInCookie = header(jar);
  const signIn = await fetch(`${apiUrl}/ui/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ _csrf: signInCsrf, key, ...(next !== undefined ? { next } : {}) }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: signInCookie },
  });
  keep(jar, signIn);
  // As a browser would: the next page, signed in, carries the session's own CSRF token.
  const page = await fetch(`${apiUrl}/ui/sign-in`, { headers: { cookie: header(jar) } });
  keep(jar, page);
  const csrf = await tokenOf(page);
  const session = jar.get('relais_session') ?? '';
  return {
    cookie: header(jar),
    sessionToken: session.slice('relais_session='.length),
    csrf,
    status: signIn.status,
    location: signIn.headers.get('location'),
    signInCsrf,
    signInCookie,
  };
}
