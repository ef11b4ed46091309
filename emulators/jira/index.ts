export { startJiraEmulator, type JiraEmulator, type JiraEmulatorControl, type JiraEmulatorOptions } from './emulator';
export { parseJql, JqlError, type ParsedJql } from './jql';
