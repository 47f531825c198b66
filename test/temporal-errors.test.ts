/** Which of Temporal's refusals send a message to the DLQ, and which only make it wait in JetStream. */
import { permanentRejection } from '../src/bridge/temporal-errors';

/** Shaped as the client throws them: a wrapper whose cause is the gRPC error. */
const refused = (code: number, details: string): Error =>
  Object.assign(new Error('Failed to start workflow'), {
    cause: Object.assign(new Error(`${code} ${details}`), { code, details }),
  });

describe('permanentRejection', () => {
  it("names an invalid argument or a denied permission with Temporal's words", () => {
    expect(permanentRejection(refused(3, 'Blob data size exceeds limit.'))).toBe(
      'invalid argument: Blob data size exceeds limit.',
    );
    expect(permanentRejection(refused(7, 'Request unauthorized.'))).toBe('permission denied: Request unauthorized.');
  });

  it('lets an unavailable or overloaded server pass: the message is retried', () => {
    expect(permanentRejection(refused(14, 'connection refused'))).toBeUndefined();
    expect(permanentRejection(refused(8, 'namespace rate limit exceeded'))).toBeUndefined();
    expect(permanentRejection(new Error('socket hang up'))).toBeUndefined();
  });

  it('lets a search attribute the namespace lacks pass: a frontend that has not yet seen its registration', () => {
    expect(
      permanentRejection(refused(3, 'Namespace default has no mapping defined for search attribute MissingAgents')),
    ).toBeUndefined();
  });
});
