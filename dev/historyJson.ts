/**
 * History ⇄ JSON with `@temporalio/proto`'s own generated code (bytes as base64, 64-bit ints and
 * enums as strings). Not the SDK's `historyToJSON`/`historyFromJSON`: in this dependency tree
 * `@temporalio/common` and `@temporalio/proto` each get their own nested protobufjs copy (the
 * top-level one is 7.x for @grpc/proto-loader), and those helpers mix the two and throw
 * "type must be a Type".
 */
import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
const HistoryMessage = temporal.api.history.v1.History;

export function historyToJson(history: History): string {
  return JSON.stringify(
    HistoryMessage.toObject(HistoryMessage.fromObject(history), { longs: String, enums: String, bytes: String }),
    null,
    1,
  );
}

/** A `History` message (64-bit ids as Long), the form `Worker.runReplayHistories` replays as is. */
export function historyFromJson(json: string): temporal.api.history.v1.History {
  return HistoryMessage.fromObject(JSON.parse(json));
}
