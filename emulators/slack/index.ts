export {
  startSlackEmulator,
  SLACK_EMULATOR_TIERS,
  type ChannelState,
  type PostedMessage,
  type SlackEmulator,
  type SlackEmulatorControl,
  type SlackEmulatorOptions,
  type SlackEventInput,
} from './emulator';
