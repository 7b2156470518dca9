// The AWS SDK for JavaScript v3 Kinesis client against the emulator's built-in Kinesis
// endpoint: create a stream, wait for ACTIVE, put records (one and a batch), list the
// shards, read every record back from TRIM_HORIZON, and get the not-found error.
//
// Usage: node kinesis_roundtrip.mjs http://127.0.0.1:8000 STREAM_NAME
// Prints one line of JSON on success; exits non-zero (with the reason) on any mismatch.
import assert from "node:assert/strict";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const [endpoint, stream] = process.argv.slice(2);
if (!endpoint || !stream) {
  console.error("usage: node kinesis_roundtrip.mjs ENDPOINT_URL STREAM_NAME");
  process.exit(2);
}
const kinesis = new KinesisClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "js", secretAccessKey: "js" },
  maxAttempts: 1,
  // The Kinesis client defaults to HTTP/2 (for SubscribeToShard); the emulator speaks
  // HTTP/1.1, like kinesalite and kinesis-local.
  requestHandler: new NodeHttpHandler(),
});

await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
for (let i = 0; ; i++) {
  const { StreamDescriptionSummary: summary } = await kinesis.send(
    new DescribeStreamSummaryCommand({ StreamName: stream }),
  );
  if (summary.StreamStatus === "ACTIVE") break;
  assert.ok(i < 200, "the stream never became ACTIVE");
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const encoder = new TextEncoder();
const one = await kinesis.send(
  new PutRecordCommand({ StreamName: stream, PartitionKey: "first", Data: encoder.encode("one") }),
);
assert.match(one.SequenceNumber, /^\d{21,}$/);
const batch = await kinesis.send(
  new PutRecordsCommand({
    StreamName: stream,
    Records: Array.from({ length: 9 }, (_, i) => ({
      PartitionKey: `key-${i}`,
      Data: encoder.encode(`batch-${i}`),
    })),
  }),
);
assert.equal(batch.FailedRecordCount, 0);
assert.equal(batch.Records.length, 9);

const { Shards: shards } = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
assert.equal(shards.length, 2);
const decoder = new TextDecoder();
const seen = [];
for (const shard of shards) {
  const { ShardIterator: iterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: stream,
      ShardId: shard.ShardId,
      ShardIteratorType: "TRIM_HORIZON",
    }),
  );
  const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
  assert.equal(page.MillisBehindLatest, 0);
  assert.ok(page.NextShardIterator);
  for (const record of page.Records) {
    assert.ok(record.ApproximateArrivalTimestamp instanceof Date);
    seen.push(decoder.decode(record.Data));
  }
}
let notFound = null;
try {
  await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: `${stream}-missing` }));
} catch (error) {
  notFound = { name: error.name, message: error.message };
}
console.log(JSON.stringify({ ok: true, records: seen.sort(), notFound }));
