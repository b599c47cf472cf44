import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { answerFile, cleanConsole, looksLikePrompt, SetupAlpineDriver, type DriverAction, type InstallerAnswers } from "../../../lib/images/alpine/installer-driver.js";

const answers: InstallerAnswers = {
  hostname: "kbook",
  repositories: ["https://mirror.test/alpine/v3.21/main", "https://mirror.test/alpine/v3.21/community"],
  disk: "sda",
  rootPassword: "s3cret",
  finishCommand: "sh /media/kbook/finish.sh",
};

/**
 * Replays a reconstructed console transcript (see testdata/README.md): the text before each
 * <<ANSWER>> marker is what the console shows while waiting; the rest of that line is the echo
 * of what was typed. Returns every action the driver took.
 */
function replay(name: string, chunkSize = 37): { actions: DriverAction[]; driver: SetupAlpineDriver } {
  // The file's final newline is not console output: a waiting prompt has none after it.
  const text = readFileSync(join(import.meta.dirname, "testdata", name), "utf8").replace(/\n$/, "").replace(/\n/g, "\r\n");
  const driver = new SetupAlpineDriver(answers);
  const actions: DriverAction[] = [];
  for (const segment of text.split("<<ANSWER>>")) {
    // The console delivers text in arbitrary pieces; prompts must be recognised across them.
    for (let i = 0; i < segment.length; i += chunkSize) actions.push(...driver.feed(segment.slice(i, i + chunkSize)));
  }
  return { actions, driver };
}

const typed = (actions: DriverAction[]) => actions.map((a) => (a.kind === "send" ? `${a.prompt}=${a.text.replace(/\r$/, "")}` : a.kind));

describe("SetupAlpineDriver on recorded setup-alpine screens", () => {
  it("answer file route: boots, logs in, runs setup-alpine -f, finishes, powers off", () => {
    const { actions, driver } = replay("setup-alpine-answerfile.txt");
    const sends = typed(actions);
    expect(sends[0]).toBe("syslinux boot:=");
    expect(sends[1]).toBe("login=root");
    expect(sends[2]).toMatch(/^shell=echo [A-Za-z0-9+/=]+ \| base64 -d > \/tmp\/kbook-answers && ERASE_DISKS=\/dev\/sda setup-alpine -e -f \/tmp\/kbook-answers; echo KBOOK-SETUP-EXIT=\$\?$/);
    expect(sends[3]).toBe("finish=sh /media/kbook/finish.sh; echo KBOOK-FINISH-EXIT=$?");
    expect(sends[4]).toBe("done");
    expect(sends).toHaveLength(5);
    // The base64 the driver typed decodes to the answer file.
    const b64 = /echo (\S+) \|/.exec(sends[2]!)![1]!;
    expect(Buffer.from(b64, "base64").toString()).toBe(answerFile(answers));
    expect(driver.state).toBe("poweroff");
  });

  it("interactive route: answers every prompt setup-alpine asks, in the article's order", () => {
    const { actions } = replay("setup-alpine-interactive.txt", 11);
    expect(typed(actions).slice(2)).toEqual([
      "keymap=none",
      "hostname=kbook",
      "interface=eth0",
      "address=dhcp",
      "manual-network=n",
      "password=s3cret",
      "password-again=s3cret",
      "timezone=UTC",
      "proxy=none",
      "ntp=none",
      "mirror=https://mirror.test/alpine/v3.21/main",
      "user=no",
      "ssh=none",
      "disk=sda",
      "disk-mode=sys",
      "erase=y",
      "finish=sh /media/kbook/finish.sh; echo KBOOK-FINISH-EXIT=$?",
      "done",
    ]);
  });

  it("the same transcript in one piece gives the same answers", () => {
    expect(typed(replay("setup-alpine-interactive.txt", 1 << 20).actions)).toEqual(typed(replay("setup-alpine-interactive.txt", 3).actions));
  });

  it("an unknown prompt stops with the screen text once the console is quiet", () => {
    const { actions, driver } = replay("setup-alpine-unknown-prompt.txt");
    expect(typed(actions)).toEqual(["login=root", expect.stringMatching(/^shell=/)]);
    const stop = driver.idle();
    expect(stop?.kind).toBe("fail");
    if (stop?.kind !== "fail") return;
    expect(stop.message).toBe('setup-alpine asked a question kbook does not know how to answer: "No disks available. Try boot media /media/cdrom? (y/n) [n]".');
    expect(stop.screen).toContain("Updating repository indexes... done.");
    expect(stop.screen.split("\n").at(-1)).toContain("No disks available");
  });

  it("quiet progress output is not mistaken for a prompt", () => {
    const driver = new SetupAlpineDriver(answers);
    driver.feed("localhost login: ");
    driver.feed("root\r\nlocalhost:~# ");
    driver.feed("echo ...\r\n * Starting networking ... [ ok ]\r\nInstalling system on /dev/sda3:\r\n");
    expect(driver.idle()).toBeNull();
    driver.feed(" * Starting busybox crond ... [ ok ]\r\n");
    expect(driver.idle()).toBeNull();
  });

  it("fails with the screen when setup-alpine exits non-zero", () => {
    const driver = new SetupAlpineDriver(answers);
    driver.feed("localhost login: ");
    driver.feed("root\r\nlocalhost:~# ");
    const [action] = driver.feed("ERROR: No disks found.\r\nKBOOK-SETUP-EXIT=1\r\nlocalhost:~# ");
    expect(action).toMatchObject({ kind: "fail", message: "setup-alpine failed (exit status 1)." });
    if (action?.kind === "fail") expect(action.screen).toContain("ERROR: No disks found.");
  });

  it("gives up on a prompt that keeps coming back", () => {
    const driver = new SetupAlpineDriver(answers);
    driver.feed("localhost login: ");
    driver.feed("root\r\nlocalhost:~# ");
    let last: DriverAction | undefined;
    for (let i = 0; i < 10; i++) last = driver.feed("bad timezone\r\nWhich timezone are you in? [UTC] ").at(-1);
    expect(last).toMatchObject({ kind: "fail", message: expect.stringContaining("keeps asking the same question (timezone)") });
  });
});

describe("console helpers", () => {
  it("strips terminal control sequences", () => {
    expect(cleanConsole("\x1b[1;32m * \x1b[0mStarting\r\r\n\x1b[?25lok\rx")).toBe(" * Starting\nok\nx");
  });

  it("recognises question shapes", () => {
    expect(looksLikePrompt("Do you really want this? (y/n) [n] ")).toBe(true);
    expect(looksLikePrompt("Enter your favourite colour: ")).toBe(true);
    expect(looksLikePrompt(" * Starting busybox syslog ... [ ok ]")).toBe(false);
    expect(looksLikePrompt("Installation is complete. Please reboot.")).toBe(false);
  });
});

describe("answerFile", () => {
  it("is shell that setup-alpine can source, with the values intact", () => {
    const dir = mkdtempSync(join(tmpdir(), "kbook-answers-"));
    const file = join(dir, "answers");
    writeFileSync(file, answerFile({ ...answers, hostname: "kb$ook" }));
    const out = execFileSync("sh", ["-c", '. "$1"; printf "%s|%s|%s|%s" "$HOSTNAMEOPTS" "$DISKOPTS" "$APKREPOSOPTS" "$INTERFACESOPTS"', "sh", file]).toString();
    const [hostname, disk, repos, interfaces] = out.split("|");
    expect(hostname).toBe("kb$ook");
    expect(disk).toBe("-s 256 -m sys /dev/sda");
    expect(repos).toBe("https://mirror.test/alpine/v3.21/main https://mirror.test/alpine/v3.21/community");
    expect(interfaces).toContain("iface eth0 inet dhcp");
  });
});
