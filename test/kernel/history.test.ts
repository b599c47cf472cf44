import { describe, expect, test } from "vitest";
import { globToRegExp, History, HISTORY_SESSION } from "../../kernel/history.js";

describe("kernel history", () => {
  const history = new History();
  history.add(1, "1 + 2", "3");
  history.add(2, "const x = 1", null);
  history.add(3, "1 + 2", "3");
  history.add(4, "x * 10", "10");

  test("tail returns the last n entries, with output on request", () => {
    expect(history.query({ hist_access_type: "tail", n: 2 })).toEqual([
      [HISTORY_SESSION, 3, "1 + 2"],
      [HISTORY_SESSION, 4, "x * 10"],
    ]);
    expect(history.query({ hist_access_type: "tail", n: 1, output: true })).toEqual([[HISTORY_SESSION, 4, ["x * 10", "10"]]]);
  });

  test("range is start inclusive, stop exclusive, in the current session", () => {
    expect(history.query({ hist_access_type: "range", session: HISTORY_SESSION, start: 2, stop: 4 }).map((h) => h[1])).toEqual([2, 3]);
    expect(history.query({ hist_access_type: "range", session: 0, start: 4 }).map((h) => h[1])).toEqual([4]);
    expect(history.query({ hist_access_type: "range", session: 99, start: 1 })).toEqual([]);
  });

  test("search matches glob patterns over the whole input, unique keeps the latest", () => {
    expect(history.query({ hist_access_type: "search", pattern: "1 + 2*" }).map((h) => h[1])).toEqual([1, 3]);
    expect(history.query({ hist_access_type: "search", pattern: "1 + 2*", unique: true }).map((h) => h[1])).toEqual([3]);
    expect(history.query({ hist_access_type: "search", pattern: "x*" }).map((h) => h[1])).toEqual([4]);
    expect(history.query({ hist_access_type: "search", pattern: "*", n: 1 }).map((h) => h[1])).toEqual([4]);
  });

  test("glob wildcards, with regex characters taken literally", () => {
    expect(globToRegExp("a?c*").test("abcdef")).toBe(true);
    expect(globToRegExp("a.c").test("abc")).toBe(false);
    expect(globToRegExp("(x)*").test("(x) + 1")).toBe(true);
  });
});
