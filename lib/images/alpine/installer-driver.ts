/**
 * The article's manual step, as a state machine: log in on the ISO's serial console, run
 * setup-alpine with an answer file, answer whatever it still asks from a prompt table, run
 * kbook's finishing script, power off. Pure: it consumes console text and returns what to type,
 * so it is tested against recorded setup-alpine screens; installer.ts connects it to QEMU.
 *
 * A prompt the table does not know stops the install with the screen text (after the console
 * has been quiet for a while with a question on its last line), rather than waiting forever.
 */

export interface InstallerAnswers {
  hostname: string;
  /** Repository URLs for setup-apkrepos (the recipe's mirror). */
  repositories: string[];
  /** Disk to install to, as setup-disk names it. */
  disk: string;
  /** Root password if setup-alpine asks for one despite -e (older alpine-conf). */
  rootPassword: string;
  /** Shell command that mounts the installed system and runs kbook's finishing script. */
  finishCommand: string;
}

/** setup-alpine's answer file (sourced as shell by setup-alpine -f). */
export function answerFile(answers: InstallerAnswers): string {
  const q = (s: string) => `"${s.replace(/(["\\$`])/g, "\\$1")}"`;
  return [
    "# kbook: answers for setup-alpine -f",
    `KEYMAPOPTS=none`,
    `HOSTNAMEOPTS=${q(answers.hostname)}`,
    `DEVDOPTS=mdev`,
    `INTERFACESOPTS=${q("auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n")}`,
    `TIMEZONEOPTS=UTC`,
    `PROXYOPTS=none`,
    `APKREPOSOPTS=${q(answers.repositories.join(" "))}`,
    `USEROPTS=none`,
    `SSHDOPTS=none`,
    `NTPOPTS=none`,
    // A small swap keeps the article's layout: sda1 /boot, sda2 swap, sda3 root.
    `DISKOPTS=${q(`-s 256 -m sys /dev/${answers.disk}`)}`,
    `LBUOPTS=none`,
    `APKCACHEOPTS=none`,
    "",
  ].join("\n");
}

export type DriverAction =
  | { kind: "send"; text: string; prompt: string }
  | { kind: "done" }
  | { kind: "fail"; message: string; screen: string };

interface PromptRule {
  id: string;
  /** Matched against the console text since the last answer, at its end. */
  pattern: RegExp;
  /** Successive answers when the prompt repeats; the last one repeats. */
  answers: (a: InstallerAnswers) => string[];
}

// An answer file covers most of these; the table answers what a given release still asks.
// Patterns end at the prompt's default "[...]" (or ":"), with optional trailing blanks.
export const SETUP_ALPINE_PROMPTS: PromptRule[] = [
  { id: "keymap", pattern: /Select keyboard layout:?.*\[[^\]]*\]:?\s*$/, answers: () => ["none"] },
  { id: "hostname", pattern: /Enter system hostname.*\[[^\]]*\]:?\s*$/, answers: (a) => [a.hostname] },
  { id: "interface", pattern: /Which one do you want to initialize\?.*\[[^\]]*\]:?\s*$/, answers: () => ["eth0", "done"] },
  { id: "address", pattern: /Ip address for \S+\?.*\[[^\]]*\]:?\s*$/i, answers: () => ["dhcp"] },
  { id: "manual-network", pattern: /Do you want to do any manual network configuration\?.*\[[^\]]*\]:?\s*$/, answers: () => ["n"] },
  { id: "password", pattern: /New password:\s*$/, answers: (a) => [a.rootPassword] },
  { id: "password-again", pattern: /Retype password:\s*$/, answers: (a) => [a.rootPassword] },
  { id: "timezone", pattern: /Which timezone are you in\?.*\[[^\]]*\]:?\s*$/, answers: () => ["UTC"] },
  { id: "proxy", pattern: /HTTP\/FTP proxy URL\?.*\[[^\]]*\]:?\s*$/, answers: () => ["none"] },
  { id: "ntp", pattern: /Which NTP client to run\?.*\[[^\]]*\]:?\s*$/, answers: () => ["none"] },
  { id: "mirror", pattern: /Enter mirror number.*\[[^\]]*\]:?\s*$/, answers: (a) => [a.repositories[0] ?? "1", "done"] },
  { id: "community", pattern: /[Cc]ommunity repositor(y|ies)\?.*\[[^\]]*\]:?\s*$/, answers: () => ["y"] },
  { id: "user", pattern: /Setup a user\?.*\[[^\]]*\]:?\s*$/, answers: () => ["no"] },
  { id: "ssh", pattern: /Which (ssh|SSH) server\?.*\[[^\]]*\]:?\s*$/, answers: () => ["none"] },
  { id: "devd", pattern: /Which device manager.*\[[^\]]*\]:?\s*$/, answers: () => ["mdev"] },
  { id: "disk", pattern: /Which disk\(s\) would you like to use\?.*\[[^\]]*\]:?\s*$/, answers: (a) => [a.disk] },
  { id: "disk-mode", pattern: /How would you like to use it\?.*\[[^\]]*\]:?\s*$/, answers: () => ["sys"] },
  { id: "erase", pattern: /Erase the above disk\(s\) and continue\?.*\[[^\]]*\]:?\s*$/, answers: () => ["y"] },
  { id: "lbu", pattern: /Enter where to store your configs.*\[[^\]]*\]:?\s*$/, answers: () => ["none"] },
  { id: "apk-cache", pattern: /Enter apk cache directory.*\[[^\]]*\]:?\s*$/, answers: () => ["none"] },
];

/** Removes terminal control sequences and carriage returns from console output. */
export function cleanConsole(text: string): string {
  return text
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
    .replace(/\x1b[()][0-9A-Za-z]/g, "")
    .replace(/\x1b[=>78cDEHM]/g, "")
    .replace(/\r+\n/g, "\n")
    .replace(/\r/g, "\n")
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "");
}

/**
 * Does the console's last line look like a question waiting for input? Used only after the
 * console has been quiet, to tell "still working" from "stuck on a prompt we do not know".
 */
export function looksLikePrompt(screen: string): boolean {
  const last = screen.replace(/\n+$/, "").split("\n").pop() ?? "";
  const line = last.trimEnd();
  if (!line || /\[\s*(ok|!!|\*+)\s*\]$/i.test(line)) return false;
  return /\?\s*(\([^)]*\))?\s*(\[[^\]]*\])?:?$/.test(line) || /\[[^\]]*\]:?$/.test(line) || /:$/.test(line) || /\(y\/n\)$/i.test(line);
}

type Phase = "boot" | "login" | "setup" | "finish" | "poweroff";

const SHELL_PROMPT = /(^|\n)[\w.-]+:[^\n#]*# $/;
const SETUP_EXIT = /KBOOK-SETUP-EXIT=(\d+)/;
const FINISH_EXIT = /KBOOK-FINISH-EXIT=(\d+)/;

export class SetupAlpineDriver {
  private phase: Phase = "boot";
  /** Console text since the last thing we typed. */
  private pending = "";
  private transcript = "";
  private readonly asked = new Map<string, number>();
  private readonly history: { prompt: string; answer: string }[] = [];

  constructor(private readonly answers: InstallerAnswers) {}

  get state(): Phase {
    return this.phase;
  }

  /** The prompts answered so far, in order, with what was typed. */
  get answered(): readonly { prompt: string; answer: string }[] {
    return this.history;
  }

  /** The last `lines` lines of the console, cleaned, for error messages. */
  screen(lines = 40): string {
    return this.transcript.replace(/\n+$/, "").split("\n").slice(-lines).join("\n");
  }

  private send(text: string, prompt: string, echo: string = text): DriverAction {
    this.pending = "";
    this.history.push({ prompt, answer: echo });
    return { kind: "send", text: `${text}\r`, prompt };
  }

  /** Feeds console output; returns what to type (usually nothing). */
  feed(chunk: string): DriverAction[] {
    const text = cleanConsole(chunk);
    this.transcript = (this.transcript + text).slice(-200_000);
    this.pending += text;
    const actions: DriverAction[] = [];
    for (let guard = 0; guard < 6; guard++) {
      const before = this.phase;
      const action = this.step();
      if (!action) {
        // A phase change (e.g. setup-alpine's exit marker) may be followed in the same chunk
        // by the next phase's cue (the shell prompt): look again.
        if (this.phase !== before) continue;
        break;
      }
      actions.push(action);
      if (action.kind !== "send") break;
    }
    return actions;
  }

  private step(): DriverAction | null {
    const p = this.pending;
    switch (this.phase) {
      case "boot":
        if (/(^|\n)boot:\s*$/.test(p)) return this.send("", "syslinux boot:");
        if (/login:\s*$/.test(p)) {
          this.phase = "login";
          return this.send("root", "login");
        }
        return null;
      case "login":
        if (/Password:\s*$/.test(p)) return { kind: "fail", message: "The Alpine ISO asked for a root password at login; its root account should have none.", screen: this.screen() };
        if (SHELL_PROMPT.test(p)) {
          this.phase = "setup";
          const b64 = Buffer.from(answerFile(this.answers)).toString("base64");
          // One line, so no heredoc prompts ("> ") are echoed back into the prompt matcher.
          return this.send(
            `echo ${b64} | base64 -d > /tmp/kbook-answers && ERASE_DISKS=/dev/${this.answers.disk} setup-alpine -e -f /tmp/kbook-answers; echo KBOOK-SETUP-EXIT=$?`,
            "shell",
            "setup-alpine -e -f /tmp/kbook-answers",
          );
        }
        return null;
      case "setup": {
        const exit = SETUP_EXIT.exec(p);
        if (exit) {
          if (exit[1] !== "0") return { kind: "fail", message: `setup-alpine failed (exit status ${exit[1]}).`, screen: this.screen() };
          this.phase = "finish";
          return null;
        }
        for (const rule of SETUP_ALPINE_PROMPTS) {
          if (!rule.pattern.test(p)) continue;
          const count = this.asked.get(rule.id) ?? 0;
          if (count >= 8) return { kind: "fail", message: `setup-alpine keeps asking the same question (${rule.id}); the answer is not accepted.`, screen: this.screen() };
          this.asked.set(rule.id, count + 1);
          const list = rule.answers(this.answers);
          const answer = list[Math.min(count, list.length - 1)]!;
          return this.send(answer, rule.id, rule.id.startsWith("password") ? "********" : answer);
        }
        return null;
      }
      case "finish":
        if (SHELL_PROMPT.test(p)) {
          this.phase = "poweroff";
          return this.send(`${this.answers.finishCommand}; echo KBOOK-FINISH-EXIT=$?`, "finish", "kbook finish script");
        }
        return null;
      case "poweroff": {
        const exit = FINISH_EXIT.exec(p);
        if (!exit) return null;
        if (exit[1] !== "0") return { kind: "fail", message: `kbook's finishing script failed on the installed system (exit status ${exit[1]}).`, screen: this.screen() };
        this.pending = "";
        this.history.push({ prompt: "done", answer: "poweroff" });
        return { kind: "done" };
      }
    }
  }

  /**
   * Called when the console has been quiet for a while. A question on the last line that no
   * rule answered means setup-alpine asks something kbook does not know: stop with the screen.
   */
  idle(): DriverAction | null {
    if (this.phase === "boot" || this.phase === "poweroff") return null;
    // A prompt leaves the cursor on its own line; output that ended with a newline is progress.
    if (!this.pending.trim() || this.pending.endsWith("\n") || !looksLikePrompt(this.pending)) return null;
    if (SHELL_PROMPT.test(this.pending)) return null;
    const question = this.pending.replace(/\n+$/, "").split("\n").pop()!.trim();
    return {
      kind: "fail",
      message: `setup-alpine asked a question kbook does not know how to answer: "${question}".`,
      screen: this.screen(),
    };
  }
}
