/**
 * `orch status`'s rows for the cluster engine, from hand-built reports: the Temporal membership row
 * (nodes, rings, shards, stores; a server refusing its AdminService), the NATS cluster row, and each
 * stream's replicas and leader (ok, a replica behind or offline, no leader); a lone server's rows
 * stay as they were. And the AdminService client itself, on a gRPC server of the test's own.
 */
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import { type Check, checks } from '../src/operations/status/checks';
import type { NatsStatus, StreamStatus, TemporalStatus } from '../src/operations/status/probe';
import {
  AdminConnection,
  describeTemporalCluster,
  type TemporalClusterStatus,
} from '../src/operations/temporal-cluster';

const NOW = new Date('2026-12-04T12:00:00Z');

const TWO_NODES_ONE_HOST: TemporalClusterStatus = {
  visible: true,
  cluster_name: 'active',
  server_version: '1.29.1',
  history_shard_count: 4,
  persistence_store: 'postgres12',
  visibility_store: 'postgres12',
  current_host: '127.0.0.1:27019',
  reachable_members: ['127.0.0.1:16949', '127.0.0.1:17142'],
  rings: [
    { role: 'history', member_count: 2, members: ['127.0.0.1:17413', '127.0.0.1:31468'] },
    { role: 'frontend', member_count: 2, members: ['127.0.0.1:22919', '127.0.0.1:27019'] },
    { role: 'matching', member_count: 2, members: ['127.0.0.1:19277', '127.0.0.1:26417'] },
    { role: 'worker', member_count: 2, members: ['127.0.0.1:28048', '127.0.0.1:28922'] },
  ],
};

function temporal(cluster?: TemporalClusterStatus): TemporalStatus {
  return {
    address: '127.0.0.1:7233',
    namespace: 'default',
    reachable: true,
    health: 'SERVING',
    server_version: '1.29.1',
    search_attributes: { registered: ['CorrelationId'], missing: [] },
    ...(cluster ? { cluster } : {}),
  };
}

const current = (name: string): NonNullable<StreamStatus['cluster']>['replicas'][number] => ({
  name,
  current: true,
  offline: false,
  active_seconds: 0.2,
  lag: 0,
});

function r3(
  leader: string | null,
  replicas: NonNullable<StreamStatus['cluster']>['replicas'],
  messages = 4,
  bytes = 866,
): StreamStatus {
  return {
    messages,
    bytes,
    first_seq: 1,
    last_seq: messages,
    num_replicas: 3,
    cluster: { name: 'orchestrator', leader, replicas },
  };
}

function clusteredNats(
  streams: Partial<Record<'SIGNALS' | 'DECISIONS' | 'SIGNALS_DLQ', StreamStatus>> = {},
): NatsStatus {
  return {
    servers: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223', 'nats://127.0.0.1:4224'],
    reachable: true,
    server_version: '2.12.15',
    server_name: 'nats-1',
    cluster: { name: 'orchestrator', connect_urls: ['127.0.0.1:4222', '127.0.0.1:4223', '127.0.0.1:4224'] },
    jetstream: true,
    streams: {
      SIGNALS: streams.SIGNALS ?? r3('nats-2', [current('nats-1'), current('nats-3')]),
      DECISIONS: streams.DECISIONS ?? r3('nats-1', [current('nats-2'), current('nats-3')], 2, 1300),
      SIGNALS_DLQ: streams.SIGNALS_DLQ ?? r3('nats-3', [current('nats-1'), current('nats-2')], 0, 0),
    },
    bridge_consumer: {
      name: 'orchestrator-bridge',
      num_pending: 0,
      num_ack_pending: 0,
      num_redelivered: 0,
      num_waiting: 1,
      last_delivered_seq: 4,
      ack_floor_seq: 4,
    },
    dlq_reasons: { sampled: 0, by_reason: {} },
  };
}

function row(rows: Check[], name: string): Check {
  const found = rows.find((r) => r.name === name);
  if (!found) throw new Error(`no ${name} row in ${rows.map((r) => r.name).join(', ')}`);
  return found;
}

describe('temporal cluster row', () => {
  it('two nodes on one host: their count, each ring with its members, the shards and stores; ok', () => {
    const rows = checks(temporal(TWO_NODES_ONE_HOST), clusteredNats(), NOW);
    expect(rows.map((r) => r.name).slice(0, 3)).toEqual(['temporal', 'temporal cluster', 'search attributes']);
    expect(row(rows, 'temporal cluster')).toEqual({
      name: 'temporal cluster',
      level: 'ok',
      detail:
        '2 nodes on 127.0.0.1 (frontend 2, history 2, matching 2, worker 2); 4 history shards; persistence postgres12, visibility postgres12; cluster active',
      more: [
        'frontend  127.0.0.1:22919, 127.0.0.1:27019 (answered)',
        'history   127.0.0.1:17413, 127.0.0.1:31468',
        'matching  127.0.0.1:19277, 127.0.0.1:26417',
        'worker    127.0.0.1:28048, 127.0.0.1:28922',
      ],
    });
  });

  it('nodes on hosts of their own are told apart by host', () => {
    const rings = ['frontend', 'history', 'matching', 'worker'].map((role, i) => ({
      role,
      member_count: 2,
      members: [`10.0.0.2:${7233 + i}`, `10.0.0.1:${7233 + i}`],
    }));
    const detail = row(
      checks(temporal({ ...TWO_NODES_ONE_HOST, rings, current_host: '10.0.0.1:7233' }), clusteredNats(), NOW),
      'temporal cluster',
    ).detail;
    expect(detail).toBe(
      '2 nodes: 10.0.0.1 (frontend, history, matching, worker), 10.0.0.2 (frontend, history, matching, worker); 4 history shards; persistence postgres12, visibility postgres12; cluster active',
    );
  });

  it('the dev server: one node, one shard, sqlite; ok', () => {
    const dev: TemporalClusterStatus = {
      visible: true,
      cluster_name: 'active',
      history_shard_count: 1,
      persistence_store: 'sqlite',
      visibility_store: 'sqlite',
      current_host: '127.0.0.1:7233',
      reachable_members: [],
      rings: ['frontend', 'history', 'matching', 'worker'].map((role, i) => ({
        role,
        member_count: 1,
        members: [`127.0.0.1:${7233 + i}`],
      })),
    };
    const check = row(checks(temporal(dev), clusteredNats(), NOW), 'temporal cluster');
    expect(check.level).toBe('ok');
    expect(check.detail).toBe(
      '1 node: 127.0.0.1 (frontend, history, matching, worker); 1 history shard; persistence sqlite, visibility sqlite; cluster active',
    );
  });

  it('a service with no member in its ring is a warning', () => {
    const rings = TWO_NODES_ONE_HOST.rings!.map((r) =>
      r.role === 'history' ? { ...r, member_count: 0, members: [] } : r,
    );
    const check = row(checks(temporal({ ...TWO_NODES_ONE_HOST, rings }), clusteredNats(), NOW), 'temporal cluster');
    expect(check.level).toBe('warn');
    expect(check.detail).toMatch(
      /^no history service in the membership rings; 2 nodes on 127\.0\.0\.1 \(frontend 2, matching 2, worker 2\); /,
    );
    expect(check.more).toContain('history   (no members)');
  });

  it('a server refusing its AdminService (Temporal Cloud): membership not visible, a warning, not a failure', () => {
    const refused = { visible: false, error: '7 PERMISSION_DENIED: Request unauthorized.', error_code: 7 };
    const rows = checks(temporal(refused), clusteredNats(), NOW);
    expect(row(rows, 'temporal cluster')).toEqual({
      name: 'temporal cluster',
      level: 'warn',
      detail:
        'membership not visible: the server refuses its AdminService (7 PERMISSION_DENIED: Request unauthorized.)',
    });
    expect(rows.filter((r) => r.level === 'fail')).toEqual([]);
    const unimplemented = row(
      checks(
        temporal({ visible: false, error: '12 UNIMPLEMENTED: unknown service', error_code: 12 }),
        clusteredNats(),
        NOW,
      ),
      'temporal cluster',
    );
    expect(unimplemented.level).toBe('warn');
    expect(unimplemented.detail).toMatch(/^membership not visible: /);
    const timedOut = row(
      checks(
        temporal({ visible: false, error: '4 DEADLINE_EXCEEDED: Deadline exceeded', error_code: 4 }),
        clusteredNats(),
        NOW,
      ),
      'temporal cluster',
    );
    expect(timedOut).toEqual({
      name: 'temporal cluster',
      level: 'warn',
      detail: 'membership not known: DescribeCluster failed: 4 DEADLINE_EXCEEDED: Deadline exceeded',
    });
  });

  it('no row when the status was read on a connection without the AdminService', () => {
    expect(checks(temporal(), clusteredNats(), NOW).map((r) => r.name)).not.toContain('temporal cluster');
  });
});

describe('NATS cluster rows', () => {
  it('all replicas current: the cluster row and each stream R3 with its leader and replicas, ok', () => {
    const rows = checks(temporal(TWO_NODES_ONE_HOST), clusteredNats(), NOW);
    const names = rows.map((r) => r.name);
    expect(names.slice(names.indexOf('nats'))).toEqual([
      'nats',
      'nats cluster',
      'SIGNALS stream',
      'bridge consumer',
      'DECISIONS stream',
      'DLQ',
    ]);
    expect(row(rows, 'nats cluster')).toEqual({
      name: 'nats cluster',
      level: 'ok',
      detail: 'orchestrator, connected to nats-1; 3 servers advertised: 127.0.0.1:4222, 127.0.0.1:4223, 127.0.0.1:4224',
    });
    expect(row(rows, 'SIGNALS stream')).toEqual({
      name: 'SIGNALS stream',
      level: 'ok',
      detail: '4 messages (866 B); R3, leader nats-2, replicas nats-1 current, nats-3 current',
    });
    expect(row(rows, 'DECISIONS stream')).toEqual({
      name: 'DECISIONS stream',
      level: 'ok',
      detail: '2 messages (1.3 KiB); R3, leader nats-1, replicas nats-2 current, nats-3 current',
    });
    expect(row(rows, 'DLQ')).toEqual({
      name: 'DLQ',
      level: 'ok',
      detail: '0 messages in SIGNALS_DLQ; R3, leader nats-3, replicas nats-1 current, nats-2 current',
    });
    expect(rows.every((r) => r.level === 'ok')).toBe(true);
  });

  it('a replica behind, or offline, is a warning naming it', () => {
    const lagging = { name: 'nats-3', current: false, offline: false, active_seconds: 3.5, lag: 12 };
    const offline = { name: 'nats-1', current: false, offline: true, active_seconds: 42, lag: 0 };
    const dead = { name: 'nats-1', current: false, offline: false, active_seconds: 0, lag: 2 };
    const rows = checks(
      temporal(TWO_NODES_ONE_HOST),
      clusteredNats({
        SIGNALS: r3('nats-2', [current('nats-1'), lagging]),
        DECISIONS: r3('nats-3', [offline, current('nats-2')], 2, 1300),
        SIGNALS_DLQ: r3('nats-2', [dead, current('nats-3')], 0, 0),
      }),
      NOW,
    );
    expect(row(rows, 'SIGNALS stream')).toEqual({
      name: 'SIGNALS stream',
      level: 'warn',
      detail:
        '4 messages (866 B); R3, leader nats-2, replicas nats-1 current, nats-3 not current (12 behind, seen 3.5s ago)',
    });
    expect(row(rows, 'DECISIONS stream')).toEqual({
      name: 'DECISIONS stream',
      level: 'warn',
      detail: '2 messages (1.3 KiB); R3, leader nats-3, replicas nats-1 offline (seen 42.0s ago), nats-2 current',
    });
    expect(row(rows, 'DLQ')).toEqual({
      name: 'DLQ',
      level: 'warn',
      detail: '0 messages in SIGNALS_DLQ; R3, leader nats-2, replicas nats-1 not current (2 behind), nats-3 current',
    });
    expect(rows.filter((r) => r.level === 'fail')).toEqual([]);
  });

  it('fewer replicas than configured is a warning', () => {
    const check = row(
      checks(temporal(), clusteredNats({ SIGNALS: r3('nats-2', [current('nats-1')]) }), NOW),
      'SIGNALS stream',
    );
    expect(check).toEqual({
      name: 'SIGNALS stream',
      level: 'warn',
      detail: '4 messages (866 B); R3, leader nats-2, replica nats-1 current; 1 of 3 replicas missing',
    });
  });

  it('a stream without a leader is a failure: it takes no writes', () => {
    const rows = checks(
      temporal(),
      clusteredNats({
        DECISIONS: r3(
          null,
          [
            current('nats-1'),
            { name: 'nats-2', current: false, offline: true, active_seconds: 9, lag: 0 },
            current('nats-3'),
          ],
          2,
          1300,
        ),
      }),
      NOW,
    );
    expect(row(rows, 'DECISIONS stream')).toEqual({
      name: 'DECISIONS stream',
      level: 'fail',
      detail:
        '2 messages (1.3 KiB); R3, no leader: the stream takes no writes until one is elected; replicas nats-1 current, nats-2 offline (seen 9.0s ago), nats-3 current',
    });
    expect(row(rows, 'SIGNALS stream').level).toBe('ok');
  });

  it('a stream that does not answer (no leader: its info times out) fails on its own row; the others still show', () => {
    const base = clusteredNats();
    const nats: NatsStatus = {
      ...base,
      streams: { ...base.streams, SIGNALS: null },
      stream_errors: { SIGNALS: 'TIMEOUT' },
    };
    const rows = checks(temporal(), nats, NOW);
    expect(row(rows, 'SIGNALS stream')).toEqual({
      name: 'SIGNALS stream',
      level: 'fail',
      detail: 'no answer (TIMEOUT): a replicated stream without a leader answers nothing and takes no writes',
    });
    expect(rows.map((r) => r.name)).not.toContain('bridge consumer');
    expect(row(rows, 'nats').level).toBe('ok');
    expect(row(rows, 'DECISIONS stream').level).toBe('ok');
    expect(row(rows, 'DLQ').level).toBe('ok');
    const dlqDown = checks(
      temporal(),
      { ...base, streams: { ...base.streams, SIGNALS_DLQ: null }, stream_errors: { SIGNALS_DLQ: 'TIMEOUT' } },
      NOW,
    );
    expect(row(dlqDown, 'DLQ')).toMatchObject({
      level: 'fail',
      detail: expect.stringMatching(/^no answer \(TIMEOUT\)/),
    });
    const denied = checks(
      temporal(),
      {
        ...base,
        streams: { ...base.streams, DECISIONS: null },
        stream_errors: { DECISIONS: 'insufficient permissions' },
      },
      NOW,
    );
    expect(row(denied, 'DECISIONS stream')).toEqual({
      name: 'DECISIONS stream',
      level: 'fail',
      detail: 'cannot read it: insufficient permissions',
    });
    const lone = checks(
      temporal(),
      {
        ...base,
        cluster: undefined,
        streams: { ...base.streams, DECISIONS: null },
        stream_errors: { DECISIONS: 'TIMEOUT' },
      },
      NOW,
    );
    expect(row(lone, 'DECISIONS stream')).toEqual({
      name: 'DECISIONS stream',
      level: 'fail',
      detail: 'cannot read it: TIMEOUT',
    });
  });

  it('a bridge consumer that does not answer fails its row', () => {
    const rows = checks(
      temporal(),
      { ...clusteredNats(), bridge_consumer: null, bridge_consumer_error: 'TIMEOUT' },
      NOW,
    );
    expect(row(rows, 'bridge consumer')).toEqual({
      name: 'bridge consumer',
      level: 'fail',
      detail: 'cannot read it: TIMEOUT',
    });
  });

  it('a DLQ with messages stays a warning whatever its replicas, and fails without a leader', () => {
    const withMessages = (leader: string | null): Check =>
      row(
        checks(
          temporal(),
          clusteredNats({ SIGNALS_DLQ: r3(leader, [current('nats-1'), current('nats-2')], 1, 40) }),
          NOW,
        ),
        'DLQ',
      );
    expect(withMessages('nats-3').level).toBe('warn');
    expect(withMessages(null).level).toBe('fail');
  });

  it('a lone server (no cluster): the rows as before, no nats cluster row', () => {
    const lone = (messages: number, bytes: number): StreamStatus => ({
      messages,
      bytes,
      first_seq: 1,
      last_seq: messages,
      num_replicas: 1,
      cluster: { name: null, leader: 'NBEULU3V2KL52', replicas: [] },
    });
    const nats: NatsStatus = {
      ...clusteredNats(),
      servers: ['nats://127.0.0.1:4222'],
      server_name: 'NBEULU3V2KL52',
      cluster: undefined,
      streams: { SIGNALS: lone(4, 866), DECISIONS: lone(2, 1300), SIGNALS_DLQ: lone(1, 40) },
      dlq_reasons: { sampled: 1, by_reason: { not_json: 1 } },
    };
    const rows = checks(temporal(), nats, NOW);
    expect(rows.map((r) => r.name)).not.toContain('nats cluster');
    expect(row(rows, 'nats').detail).toBe('nats://127.0.0.1:4222, server 2.12.15, JetStream on');
    expect(row(rows, 'SIGNALS stream')).toEqual({ name: 'SIGNALS stream', level: 'ok', detail: '4 messages (866 B)' });
    expect(row(rows, 'DECISIONS stream')).toEqual({
      name: 'DECISIONS stream',
      level: 'ok',
      detail: '2 messages (1.3 KiB)',
    });
    expect(row(rows, 'DLQ')).toEqual({
      name: 'DLQ',
      level: 'warn',
      detail: '1 message in SIGNALS_DLQ; last 1 by reason: not_json 1',
    });
  });
});

describe('AdminConnection on a gRPC server of its own', () => {
  const ADMIN = '/temporal.server.api.adminservice.v1.AdminService/DescribeCluster';
  let server: grpc.Server;
  let port: number;
  let answer: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => void;
  const received: Array<{ request: Buffer; authorization: grpc.MetadataValue[] }> = [];

  beforeAll(async () => {
    server = new grpc.Server();
    const identity = (b: Buffer): Buffer => b;
    server.addService(
      {
        DescribeCluster: {
          path: ADMIN,
          requestStream: false,
          responseStream: false,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
        },
      },
      {
        DescribeCluster: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          received.push({ request: call.request, authorization: call.metadata.get('authorization') });
          answer(call, callback);
        },
      },
    );
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
  });
  afterAll(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));

  // The WorkflowService is not served: the SDK takes UNIMPLEMENTED on GetSystemInfo for an old server and connects.
  // An API key turns TLS on unless told otherwise; this server is plaintext.
  const connect = (): Promise<AdminConnection> =>
    AdminConnection.connect({ address: `127.0.0.1:${port}`, apiKey: 'secret-key', tls: false });

  it('decodes DescribeCluster by the server’s field numbers, sending the API key', async () => {
    // Written field by field, not with the module's own message definitions.
    const host = (identity: string): Uint8Array =>
      protobuf.Writer.create()
        .uint32((1 << 3) | 2)
        .string(identity)
        .finish();
    const ring = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .string('history')
      .uint32((2 << 3) | 0)
      .int32(1)
      .uint32((3 << 3) | 2)
      .bytes(host('10.0.0.1:7234'))
      .finish();
    const membership = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(host('10.0.0.1:7233'))
      .uint32((2 << 3) | 2)
      .string('10.0.0.1:6933')
      .uint32((3 << 3) | 2)
      .bytes(ring)
      .finish();
    const response = protobuf.Writer.create()
      .uint32((2 << 3) | 2)
      .string('1.29.1')
      .uint32((3 << 3) | 2)
      .bytes(membership)
      .uint32((5 << 3) | 2)
      .string('active')
      .uint32((6 << 3) | 0)
      .int32(512)
      .uint32((7 << 3) | 2)
      .string('postgres12')
      .uint32((8 << 3) | 2)
      .string('elasticsearch')
      .finish();
    answer = (_call, callback) => callback(null, Buffer.from(response));
    const connection = await connect();
    try {
      expect(await describeTemporalCluster(connection, 5_000)).toEqual({
        visible: true,
        cluster_name: 'active',
        server_version: '1.29.1',
        history_shard_count: 512,
        persistence_store: 'postgres12',
        visibility_store: 'elasticsearch',
        current_host: '10.0.0.1:7233',
        reachable_members: ['10.0.0.1:6933'],
        rings: [{ role: 'history', member_count: 1, members: ['10.0.0.1:7234'] }],
      });
      expect(received.at(-1)!.authorization).toEqual(['Bearer secret-key']);
      expect(received.at(-1)!.request.length).toBe(0);
    } finally {
      await connection.close();
    }
  });

  it('PERMISSION_DENIED (Temporal Cloud) is membership not visible: a warning row', async () => {
    answer = (_call, callback) => callback({ code: grpc.status.PERMISSION_DENIED, details: 'Request unauthorized.' });
    const connection = await connect();
    try {
      const cluster = await describeTemporalCluster(connection, 5_000);
      expect(cluster).toEqual({ visible: false, error: '7 PERMISSION_DENIED: Request unauthorized.', error_code: 7 });
      expect(row(checks(temporal(cluster), clusteredNats(), NOW), 'temporal cluster')).toEqual({
        name: 'temporal cluster',
        level: 'warn',
        detail:
          'membership not visible: the server refuses its AdminService (7 PERMISSION_DENIED: Request unauthorized.)',
      });
    } finally {
      await connection.close();
    }
  });

  it('a server without the AdminService answers UNIMPLEMENTED: not visible either', async () => {
    const bare = new grpc.Server();
    const barePort = await new Promise<number>((resolve, reject) =>
      bare.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    const connection = await AdminConnection.connect({ address: `127.0.0.1:${barePort}` });
    try {
      const cluster = await describeTemporalCluster(connection, 5_000);
      expect(cluster).toMatchObject({ visible: false, error_code: grpc.status.UNIMPLEMENTED });
      expect(row(checks(temporal(cluster), clusteredNats(), NOW), 'temporal cluster').detail).toMatch(
        /^membership not visible: the server refuses its AdminService \(12 UNIMPLEMENTED: /,
      );
    } finally {
      await connection.close();
      await new Promise<void>((resolve) => bare.tryShutdown(() => resolve()));
    }
  });
});
