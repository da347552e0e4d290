/** The one error the campaign command shows as is: a problem the user can fix (the file, a setting, the service's answer). */

/** A user-caused problem; its message says what to fix and never holds a secret. */
export class CampaignError extends Error {
  constructor(
    message: string,
    /** Process exit code: 2 for problems with the file, the settings or the service. */
    readonly exitCode = 2,
    /** Set when the service answered 429: the seconds it asked us to wait before asking again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'CampaignError';
  }
}
