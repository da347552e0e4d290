/** Who is calling, as the runs domain sees it: the owner of a run and whether they may act on every run. */

export interface Identity {
  /** Stable id of the caller: a Google `sub`, or `secret:<user id>` for shared-secret installs. */
  subject: string;
  email?: string;
  via: 'google' | 'secret';
  isAdmin: boolean;
}
