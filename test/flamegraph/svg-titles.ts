/** Reading a rendered flame graph back: frame titles and rectangles. */
export interface DrawnFrame {
  title: string;
  x: number;
  y: number;
  width: number;
  fill: string;
  label: string;
}

function unescape(text: string): string {
  return text.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e]!);
}

export function drawnFrames(svg: string): DrawnFrame[] {
  const frames: DrawnFrame[] = [];
  const re = /<g>\n<title>([^<]*)<\/title><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" fill="([^"]+)" rx="2" ry="2" \/>\n<text [^>]*>([^<]*)<\/text>\n<\/g>/g;
  for (const m of svg.matchAll(re)) {
    frames.push({ title: unescape(m[1]!), x: Number(m[2]), y: Number(m[3]), width: Number(m[4]), fill: m[5]!, label: unescape(m[6]!) });
  }
  return frames;
}
