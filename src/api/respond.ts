// How handlers answer: errors as {error: {code, message, ...}} with their status (and
// Retry-After on 503), and async handlers whose failures reach the error middleware.
import type { NextFunction, Request, Response } from 'express';
import type { ClientError } from '../node/errors.js';

export function sendError(res: Response, e: ClientError): void {
  if (e.status === 503) res.setHeader('Retry-After', '1');
  res.status(e.status).json({ error: { code: e.code, message: e.message, ...e.extra } });
}

export function handle(fn: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };
}
