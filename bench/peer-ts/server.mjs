// The benchmark's peer: an MCP server built the way the official TypeScript
// SDK (@modelcontextprotocol/sdk, pinned in package.json) shows it, serving
// the same trivial tool as drivemcp (check_drive_auth) behind the SDK's own
// bearer middleware (requireBearerAuth) and OAuth router (mcpAuthRouter).
//
// What it does, so the comparison is honest (bench/README.md says the same):
//   - /mcp: stateless streamable HTTP, the SDK's documented pattern (a new
//     McpServer and StreamableHTTPServerTransport per request, SSE answers),
//     behind requireBearerAuth;
//   - tokens, codes and clients live in memory: the provider is the SDK's own
//     DemoInMemoryAuthProvider (a Map lookup per verified token, no hashing,
//     no database), extended only with refresh tokens (the demo has none),
//     rotated on use;
//   - /authorize redirects at once with a code (no consent page, no upstream
//     login: the demo provider "simulates" the user);
//   - rate limits are off on every endpoint (they are on by default and would
//     answer 429 after 20 registrations or 50 token requests).
//
// Plain ES module JavaScript, so Node 20 runs it without a compile step; the
// SDK it measures is the same compiled JavaScript either way.
//
// Environment: PORT (default 0: any free port). Prints one line,
// "listening http://127.0.0.1:PORT", once it accepts connections.
import { randomUUID } from 'node:crypto';
import * as z from 'zod/v4';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { mcpAuthRouter, getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidGrantError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { DemoInMemoryAuthProvider } from '@modelcontextprotocol/sdk/examples/server/demoInMemoryOAuthProvider.js';

// BenchProvider is the SDK's demo provider plus refresh tokens, rotated on
// each use as OAuth 2.1 asks of public clients.
class BenchProvider extends DemoInMemoryAuthProvider {
  constructor() {
    super();
    this.refreshTokens = new Map();
  }

  async exchangeAuthorizationCode(client, code, verifier) {
    const tokens = await super.exchangeAuthorizationCode(client, code, verifier);
    const data = this.tokens.get(tokens.access_token);
    return { ...tokens, refresh_token: this.mintRefresh(client.client_id, data.scopes, data.resource) };
  }

  async exchangeRefreshToken(client, refreshToken) {
    const old = this.refreshTokens.get(refreshToken);
    if (!old || old.clientId !== client.client_id) {
      throw new InvalidGrantError('unknown refresh token');
    }
    this.refreshTokens.delete(refreshToken);
    const access = randomUUID();
    this.tokens.set(access, {
      token: access, clientId: client.client_id, scopes: old.scopes,
      expiresAt: Date.now() + 3600_000, resource: old.resource, type: 'access',
    });
    return {
      access_token: access, token_type: 'bearer', expires_in: 3600, scope: old.scopes.join(' '),
      refresh_token: this.mintRefresh(client.client_id, old.scopes, old.resource),
    };
  }

  mintRefresh(clientId, scopes, resource) {
    const token = randomUUID();
    this.refreshTokens.set(token, { clientId, scopes, resource });
    return token;
  }
}

// newMcpServer is one request's server, with drivemcp's no-op-cost tool:
// who the bearer token belongs to.
function newMcpServer() {
  const server = new McpServer({ name: 'peer-ts', version: '1.0.0' });
  server.registerTool('check_drive_auth', {
    title: 'Which Google account is used',
    description: 'Says which account the tools act as and how it was authenticated.',
    inputSchema: { user_google_email: z.string().optional() },
    outputSchema: {
      authenticated: z.boolean(),
      email: z.string().optional(),
      method: z.string().optional(),
      scopes: z.array(z.string()).optional(),
      message: z.string(),
    },
    annotations: { readOnlyHint: true },
  }, async (_args, extra) => {
    const info = extra.authInfo;
    const out = {
      authenticated: true,
      email: 'demo_user', // the demo provider's simulated login
      method: 'oauth',
      scopes: info.scopes,
      message: `Acting as demo_user (authenticated by your MCP client's OAuth login) with scopes: ${info.scopes.join(' ')}.`,
    };
    return { content: [{ type: 'text', text: out.message }], structuredContent: out };
  });
  return server;
}

const provider = new BenchProvider();
const app = createMcpExpressApp();
let base; // set once listening: the issuer and resource depend on the port

const off = { rateLimit: false };
app.use((req, res, next) => authRouter(req, res, next));
let authRouter;

app.post('/mcp', (req, res, next) => bearer(req, res, next), async (req, res) => {
  const server = newMcpServer();
  try {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  } catch (err) {
    if (!res.headersSent) {
      res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: String(err) }, id: null });
    }
  }
});
let bearer;

const listener = app.listen(Number(process.env.PORT || 0), '127.0.0.1', (err) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  base = `http://127.0.0.1:${listener.address().port}`;
  const mcpURL = new URL('/mcp', base);
  authRouter = mcpAuthRouter({
    provider,
    issuerUrl: new URL(base),
    resourceServerUrl: mcpURL,
    scopesSupported: ['drive.file'],
    authorizationOptions: off,
    clientRegistrationOptions: off,
    tokenOptions: off,
    revocationOptions: off,
  });
  bearer = requireBearerAuth({ verifier: provider, resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(mcpURL) });
  console.log(`listening ${base}`);
});
// Keep-alive connections from the load generator stay open between runs.
listener.keepAliveTimeout = 120_000;

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => process.exit(0));
}
