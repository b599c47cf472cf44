/**
 * The command channel into a guest: the guest agent (built from assets/guest/agent.c) and the
 * host client that runs commands and moves files through it over any Duplex stream.
 */
export { AgentClient, type AgentClientOptions, type AgentHello } from "./client.js";
export { AgentError, GuestCommandError } from "./errors.js";
export { buildAgent } from "./build.js";
export { copyIntoGuest, copyOutOfGuest } from "./copy.js";
