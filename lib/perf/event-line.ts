/**
 * The first line of a `perf script` sample ("dd 29776 [001] 666709.771979:   10101010
 * cpu-clock: "), scanned by hand in its bytes with the semantics of stackcollapse-perf.pl's
 * regular expressions (Perl's `\s` and `\d` on bytes):
 *
 *   record:  ^(\S.+?)\s+(\d+)\/*(\d+)*\s+      comm, then pid[/tid] (a lone number is the tid)
 *   event:   :\s*(\d+)*\s+(\S+):\s*$          optional period, then the event name
 *
 * Scanning instead of matching keeps the collapser fast (one sample header per stack); the
 * equivalence with the regular expressions is checked by a property test.
 */

function isBlank(c: number): boolean {
  // Perl's \s on bytes: \t \n \v \f \r and space.
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Where the parts of a sample header are: [start, end) offsets into the text. */
export interface EventRecordScan {
  /** The comm (process name, may hold spaces) ends here; it starts at the line start. */
  commEnd: number;
  pidStart: number;
  pidEnd: number;
  /** tidStart === tidEnd when the header has a single number (perf script's default: the TID). */
  tidStart: number;
  tidEnd: number;
}

/**
 * Matches the record regex against `text[start, end)`, filling `out`; false when the line is
 * not a sample header. The comm is the shortest prefix (of at least two characters) followed by
 * blanks, digits, optional "/digits" and a blank.
 */
export function scanEventRecord(text: Uint8Array, start: number, end: number, out: EventRecordScan): boolean {
  if (end - start < 2 || isBlank(text[start]!)) return false;
  let i = start + 2;
  while (i < end) {
    if (!isBlank(text[i]!)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < end && isBlank(text[j]!)) j++;
    // Every comm end inside this run of blanks leads to the same digits, so a failure here
    // fails them all: continue after the run.
    if (j < end && isDigit(text[j]!)) {
      let k = j + 1;
      while (k < end && isDigit(text[k]!)) k++;
      let l = k;
      while (l < end && text[l]! === 47 /* / */) l++;
      let m = l;
      while (m < end && isDigit(text[m]!)) m++;
      if (m < end && isBlank(text[m]!)) {
        out.commEnd = i;
        out.pidStart = j;
        out.pidEnd = k;
        out.tidStart = l;
        out.tidEnd = m;
        return true;
      }
    }
    i = j;
  }
  return false;
}

export interface EventNameScan {
  /** [eventStart, eventEnd) of the event name ("cpu-clock", "sched:sched_switch"). */
  eventStart: number;
  eventEnd: number;
  /** [periodStart, periodEnd) of the period digits before the name; empty when absent. */
  periodStart: number;
  periodEnd: number;
}

/** Matches the event regex against `text[start, end)`, scanning back from the end. */
export function scanEventName(text: Uint8Array, start: number, end: number, out: EventNameScan): boolean {
  let e = end;
  while (e > start && isBlank(text[e - 1]!)) e--;
  if (e <= start || text[e - 1]! !== 58 /* : */) return false;
  const eventEnd = e - 1;
  let t = eventEnd;
  while (t > start && !isBlank(text[t - 1]!)) t--;
  if (t === eventEnd || t === start) return false;
  // Before the event name: blanks, then optional period digits, then optional blanks, then ":".
  let w = t;
  while (w > start && isBlank(text[w - 1]!)) w--;
  let d = w;
  while (d > start && isDigit(text[d - 1]!)) d--;
  let s = d;
  if (d < w) while (s > start && isBlank(text[s - 1]!)) s--;
  // Without digits the blanks before the name must follow the ":" directly.
  if (s === start || text[s - 1]! !== 58) return false;
  out.eventStart = t;
  out.eventEnd = eventEnd;
  out.periodStart = d;
  out.periodEnd = w;
  return true;
}
