import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtmlPage, renderSearchableList } from "../../lib/viz/index.js";

const CHROMIUM = "/usr/bin/chromium";
const names = ["kprobe:task_tick_fair", "kprobe:task_tick_rt", "kprobe:tick_sched_timer", "kprobe:<img src=x onerror=window.pwned=1>", "tracepoint:sched:sched_switch"];

describe("searchable lists", () => {
  it("writes the first items as escaped static markup and the data without a closing script tag", () => {
    const html = renderSearchableList([...names, "</script><script>window.pwned=1</script>"], { title: "probes <all>", limit: 3 });
    expect(html).toContain("<li>kprobe:task_tick_fair</li>");
    expect(html.match(/<li>/g)!.length).toBe(3);
    expect(html).toContain("probes &lt;all&gt;");
    expect(html).not.toContain("<img");
    // The only </script> tags are the two that close kbook's own script elements.
    expect(html.match(/<\/script>/g)!.length).toBe(2);
  });

  describe.skipIf(!existsSync(CHROMIUM))("in a browser", () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it("filters as you type, by words or regular expressions, without running item text", async () => {
      const page = await browser.newPage();
      await page.setContent(renderHtmlPage("probes", renderSearchableList(names) + renderSearchableList(["other:list"])));
      const items = () => page.locator(".kbook-searchable").first().locator("li").allTextContents();
      expect(await items()).toEqual(names);
      await page.locator("input").first().fill("tick task");
      expect(await items()).toEqual(["kprobe:task_tick_fair", "kprobe:task_tick_rt"]);
      await page.locator("input").first().fill("^tracepoint:.*switch$");
      expect(await items()).toEqual(["tracepoint:sched:sched_switch"]);
      await page.locator("input").first().fill("onerror");
      expect(await items()).toEqual(["kprobe:<img src=x onerror=window.pwned=1>"]);
      expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
      expect(await page.locator(".kbook-count").first().textContent()).toBe("1 of 5");
      // The second list on the page is untouched by the first one's filter.
      expect(await page.locator(".kbook-searchable").nth(1).locator("li").allTextContents()).toEqual(["other:list"]);
      await page.close();
    });
  });
});
