/**
 * The post body model: a post as the pure planner builds it and the Postato client sends it (Postato API §3.2 and
 * §16). Types only, no I/O, so plan/ and postato/ both depend on it. Response types live in postato/postato-schemas.ts.
 */

/** Platforms Postato accepts; `x` is normalised to `twitter` before anything is sent. */
export type Platform = 'instagram' | 'twitter' | 'linkedin' | 'tiktok' | 'youtube';

/**
 * A media reference: a Postato media id, or a public https URL with its type. `driveFileId` is the sheet's own form
 * for a Google Drive file: the publish step uploads the file to Postato and sends `{ id: "med_…" }` in its place, so
 * Postato never sees it.
 */
export interface MediaRef {
  id?: string;
  driveFileId?: string;
  url?: string;
  type?: 'image' | 'video' | 'document';
  alt?: string;
}

/** One element of array content: a tweet of a thread, or a single post's text with its media. */
export interface ContentItem {
  text: string;
  media?: MediaRef[];
}

/** Body of POST /v1/workspaces/{ws}/posts. */
export interface CreatePostBody {
  platform: Platform;
  accountId: string;
  status: 'publish' | 'scheduled' | 'draft';
  postType: string;
  content: string | ContentItem[];
  media?: MediaRef[];
  options?: Record<string, unknown>;
  /** UTC ISO-8601 with Z; required when status is `scheduled`. */
  scheduledAt?: string;
}

/** Body of PATCH /v1/workspaces/{ws}/posts/{id}. */
export interface UpdatePostBody {
  content?: string | ContentItem[];
  media?: MediaRef[];
  scheduledAt?: string;
  status?: 'publish' | 'scheduled' | 'draft';
}
