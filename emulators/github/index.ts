export {
  startGithubEmulator,
  type GithubEmulator,
  type GithubEmulatorControl,
  type GithubEmulatorOptions,
  type GithubPermissions,
} from './emulator';
export { webhookExample } from './templates';
