// An error whose message is safe to show a client, with its HTTP status.
// Anything else that escapes a handler becomes a bare 500 (details go to the
// server log only, never to the client).

export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}

export const badRequest = (msg: string): HttpError => new HttpError(400, msg);
export const notFound = (msg = 'not found'): HttpError => new HttpError(404, msg);
