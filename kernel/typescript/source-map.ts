/**
 * Maps positions in the JavaScript a cell compiled to back to the cell's TypeScript, so a stack
 * frame says "cell [4] line 3:7" about the line the user wrote. Source maps v3 "mappings" is
 * base64 VLQ: per generated line, segments of [column, source, line, column, name] deltas.
 */
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

/** [generatedColumn, originalLine, originalColumn], all 0-based, per generated line. */
type Segment = [number, number, number];

export class CellSourceMap {
  private lines?: Segment[][];

  /**
   * @param mappings the source map's `mappings` field
   * @param firstCellLine the 0-based line of the checked file where the cell's own text starts
   */
  constructor(
    private readonly mappings: string,
    private readonly firstCellLine: number,
  ) {}

  /** 1-based cell line and column for a 1-based generated position, or undefined when unmapped. */
  original(line: number, column: number): { line: number; column: number } | undefined {
    this.lines ??= decodeMappings(this.mappings);
    const segments = this.lines[line - 1];
    if (!segments?.length) return undefined;
    let best: Segment | undefined;
    for (const segment of segments) {
      if (segment[0] <= column - 1) best = segment;
      else break;
    }
    best ??= segments[0]!;
    const cellLine = best[1] - this.firstCellLine;
    return cellLine < 0 ? undefined : { line: cellLine + 1, column: best[2] + 1 };
  }
}

export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let sourceLine = 0;
  let sourceColumn = 0;
  for (const lineText of mappings.split(";")) {
    const segments: Segment[] = [];
    let column = 0;
    for (const segmentText of lineText.split(",")) {
      if (!segmentText) continue;
      const fields = decodeVlq(segmentText);
      column += fields[0]!;
      if (fields.length >= 4) {
        sourceLine += fields[2]!;
        sourceColumn += fields[3]!;
        segments.push([column, sourceLine, sourceColumn]);
      }
    }
    segments.sort((a, b) => a[0] - b[0]);
    lines.push(segments);
  }
  return lines;
}

function decodeVlq(text: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of text) {
    const digit = DIGIT.get(c);
    if (digit === undefined) throw new Error(`Invalid base64 VLQ character '${c}' in source map.`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}
