/**
 * The failures of building an Alpine image that a person can act on: a mirror that cannot be
 * reached, a release the mirror does not have, and a file whose checksum or signature is wrong.
 */
import { KbookError, UsageError } from "../../errors/index.js";

/** The mirror could not be reached at all (DNS, refused, timed out, no route). */
export class MirrorUnreachableError extends KbookError {
  readonly url: string;
  readonly code?: string;
  constructor(url: string, code: string | undefined, cause?: unknown) {
    super(
      `Cannot reach the Alpine mirror at ${url}${code ? ` (${code})` : ""}; build the offline 'debian' recipe instead, or pass --mirror with an Alpine mirror this machine can reach.`,
      { cause },
    );
    this.url = url;
    this.code = code;
  }
}

/** The mirror answered with an HTTP error other than a missing release. */
export class HttpStatusError extends KbookError {
  readonly url: string;
  readonly status: number;
  constructor(url: string, status: number, statusText = "") {
    super(`${url} answered HTTP ${status}${statusText ? ` ${statusText}` : ""}.`);
    this.url = url;
    this.status = status;
  }
}

/** The asked release (or branch) is not on the mirror; `available` lists what is. */
export class ReleaseNotFoundError extends UsageError {
  readonly release: string;
  readonly available: string[];
  constructor(release: string, mirror: string, available: string[], what = "release") {
    super(`Alpine ${what} '${release}' is not on the mirror ${mirror}.`, {
      hint: available.length ? `The mirror lists: ${available.join(", ")}.` : "The mirror lists no releases for this architecture.",
    });
    this.release = release;
    this.available = available;
  }
}

/** A downloaded file failed its checksum or signature check and was deleted. */
export class IntegrityError extends KbookError {
  readonly file: string;
  readonly check: "sha256" | "signature" | "datahash" | "identity";
  constructor(file: string, check: IntegrityError["check"], message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { hint: options.hint, cause: options.cause });
    this.file = file;
    this.check = check;
  }
}
