// The one seam between the CLI and the network: a request goes out, a buffered response comes
// back. HttpsTransport is the real one; tests substitute a fake.

export interface HttpRequest {
  method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  body: string;
}

export interface Transport {
  send(request: HttpRequest): Promise<HttpResponse>;
  /** Releases kept-alive connections so the process can exit. */
  close(): void;
}
