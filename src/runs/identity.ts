/** Who is calling, as the runs domain sees it: the owner of a run and whether they may act on every run. */

export interface Identity {
  /** Stable id of the caller: `google:<sub>`, or the one organisation identity of a shared-secret install. */
  subject: string;
  email?: string;
  via: 'google' | 'secret';
  /** Only from configuration (ADMIN_EMAILS) for a verified Google account; never from a header. */
  isAdmin: boolean;
  /** Shared-secret mode: the X-User-Id the add-on sent, for logs only (anyone with the secret may send any value). */
  label?: string;
}
