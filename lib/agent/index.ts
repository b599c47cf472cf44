/**
 * The command channel into a guest: the guest agent (built from assets/guest/agent.c) and the
 * host client that runs commands and moves files through it over any Duplex stream.
 */
export { AgentClient, AgentUnresponsiveError, type AgentClientOptions, type AgentHello, type ResumeReport } from "./client.js";
export { AgentError, GuestCommandError, describeCommand } from "./errors.js";
export { buildAgent } from "./build.js";
export { copyIntoGuest, copyOutOfGuest } from "./copy.js";
