// Kiri's bootstrap for Lambda's nodejs*.x runtimes.
//
// A Lambda Runtime API (2018-06-01) client written against Node's standard library only. It
// loads the handler named by _HANDLER from LAMBDA_TASK_ROOT (CommonJS or ES module), then
// long-polls http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next on a keep-alive
// connection, calls the handler and posts its result or error. Handler styles (async, callback,
// response streaming), error shapes, the context object and the log format follow AWS's Node.js
// runtime interface client.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import util from 'node:util';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const ERROR_BODY_TRAILER = 'Lambda-Runtime-Function-Error-Body';
const RESPONSE_MODE_HEADER = 'Lambda-Runtime-Function-Response-Mode';
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const STREAM_RESPONSE = 'response';
const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const PRELUDE_DELIMITER_LEN = 8;

// ---------------------------------------------------------------------------------------------
// Errors

function runtimeError(name) {
  const cls = class extends Error {};
  Object.defineProperty(cls, 'name', { value: name });
  cls.prototype.name = `Runtime.${name}`;
  return cls;
}

const ImportModuleError = runtimeError('ImportModuleError');
const HandlerNotFound = runtimeError('HandlerNotFound');
const MalformedHandlerName = runtimeError('MalformedHandlerName');
const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError');
const MalformedStreamingHandler = runtimeError('MalformedStreamingHandler');
const InvalidStreamingOperation = runtimeError('InvalidStreamingOperation');
const UnhandledPromiseRejection = runtimeError('UnhandledPromiseRejection');
const NodeJsExit = runtimeError('NodeJsExit');

function isErrorLike(e) {
  return (
    e &&
    typeof e.name === 'string' &&
    typeof e.message === 'string' &&
    typeof e.stack === 'string'
  );
}

// toRapidResponse is the error JSON the Runtime API receives: {errorType, errorMessage, trace}.
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: String(error.stack).split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  const out = Object.assign(
    { errorType: value.name, errorMessage: value.message, code: value.code },
    value,
  );
  if (typeof value.stack === 'string') out.stack = value.stack.split('\n');
  return out;
}

// toFormatted renders an error for the log; it always starts with a tab, as AWS's does.
function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

// ---------------------------------------------------------------------------------------------
// Logging: console.* becomes `<ISO time>\t<request id>\t<LEVEL>\t<message>` (or JSON).

const LEVELS = {
  TRACE: 1,
  DEBUG: 2,
  INFO: 3,
  WARN: 4,
  ERROR: 5,
  FATAL: 6,
};
const logFormatJSON = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';

function currentRequestId() {
  return globalThis[REQUEST_ID];
}

function jsonErrorReplacer(_key, value) {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
}

function formatJSON(level, params) {
  const record = {
    timestamp: new Date().toISOString(),
    level,
    requestId: currentRequestId(),
  };
  if (params.length === 1) {
    record.message = params[0];
    try {
      return JSON.stringify(record, jsonErrorReplacer);
    } catch {
      record.message = util.format(params[0]);
      return JSON.stringify(record);
    }
  }
  record.message = util.format(...params);
  const err = params.find((p) => p instanceof Error);
  if (err) {
    record.errorType = err?.constructor?.name ?? 'UnknownError';
    record.errorMessage = err.message;
    record.stackTrace = typeof err.stack === 'string' ? err.stack.split('\n') : [];
  }
  return JSON.stringify(record);
}

function writeLog(level, params) {
  let line = logFormatJSON
    ? formatJSON(level, params)
    : `${new Date().toISOString()}\t${currentRequestId()}\t${level}\t${util.format(...params)}`;
  // One record per call: newlines become CR so line-based log capture keeps it together.
  line = line.replace(/\n/g, '\r');
  process.stdout.write(line + '\n');
}

function patchConsole() {
  const min = LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] ?? LEVELS.TRACE;
  const nop = () => {};
  const at = (level) => (LEVELS[level] >= min ? (...params) => writeLog(level, params) : nop);
  console.trace = at('TRACE');
  console.debug = at('DEBUG');
  console.info = at('INFO');
  console.log = console.info;
  console.warn = at('WARN');
  console.error = at('ERROR');
  console.fatal = (...params) => writeLog('FATAL', params);
}

function logError(message, err) {
  if (logFormatJSON) {
    console.error(intoError(err));
  } else {
    console.error(message, toFormatted(intoError(err)));
  }
}

// ---------------------------------------------------------------------------------------------
// Runtime API client

class RuntimeClient {
  constructor(address) {
    const i = address.lastIndexOf(':');
    this.hostname = address.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
    this.port = Number(address.slice(i + 1));
    // Idle keep-alive sockets are unref'd by the agent, so they never hold the event loop open.
    this.agent = new http.Agent({ keepAlive: true });
  }

  request(method, path, headers, body) {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { hostname: this.hostname, port: this.port, method, path, headers, agent: this.agent },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async post(path, headers, body) {
    const { res, body: data } = await this.request('POST', path, headers, body);
    if (res.statusCode >= 300) {
      process.stderr.write(`runtime API: POST ${path} returned ${res.statusCode}: ${data}\n`);
    }
  }

  async nextInvocation() {
    const { res, body } = await this.request('GET', `${API_PREFIX}/invocation/next`, {});
    if (res.statusCode !== 200) {
      throw new Error(`runtime API: GET next returned ${res.statusCode}: ${body}`);
    }
    return { body: body.toString('utf8'), headers: res.headers };
  }

  postInvocationResponse(id, body) {
    return this.post(
      `${API_PREFIX}/invocation/${encodeURIComponent(id)}/response`,
      { 'Content-Type': 'application/json' },
      body,
    );
  }

  postInvocationError(id, error) {
    const response = toRapidResponse(error);
    return this.post(
      `${API_PREFIX}/invocation/${encodeURIComponent(id)}/error`,
      { 'Content-Type': 'application/json', [ERROR_TYPE_HEADER]: headerSafe(response.errorType) },
      JSON.stringify(response),
    );
  }

  postInitError(error) {
    const response = toRapidResponse(error);
    return this.post(
      `${API_PREFIX}/init/error`,
      { 'Content-Type': 'application/json', [ERROR_TYPE_HEADER]: headerSafe(response.errorType) },
      JSON.stringify(response),
    );
  }

  // responseStream opens a streamed /response POST (chunked, with error trailers).
  responseStream(id, highWaterMark) {
    const req = http.request({
      hostname: this.hostname,
      port: this.port,
      method: 'POST',
      path: `${API_PREFIX}/invocation/${encodeURIComponent(id)}/response`,
      agent: this.agent,
      headers: {
        [RESPONSE_MODE_HEADER]: 'streaming',
        'Transfer-Encoding': 'chunked',
        Trailer: `${ERROR_TYPE_HEADER}, ${ERROR_BODY_TRAILER}`,
        'Content-Type': 'application/octet-stream',
      },
    });
    return new ResponseStream(req, highWaterMark);
  }
}

function headerSafe(value) {
  return String(value ?? '').replace(/[^\t\x20-\x7e]/g, '');
}

// ResponseStream is the writable a streaming handler receives. Each write goes out as it is
// made (one HTTP chunk per write, no buffering beyond the socket's).
class ResponseStream extends Writable {
  constructor(req, highWaterMark) {
    super(highWaterMark ? { highWaterMark } : {});
    this._req = req;
    this._started = false;
    this._prelude = null;
    this._failed = false;
    this.done = new Promise((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    // The caller awaits done; an unobserved rejection must not become an unhandledRejection.
    this.done.catch(() => {});
  }

  setContentType(contentType) {
    if (this._started) {
      throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    }
    this._req.setHeader('Content-Type', contentType);
  }

  _start() {
    if (this._started) return;
    this._started = true;
    if (this._prelude) this._req.write(this._prelude);
  }

  write(chunk, encoding, callback) {
    if (
      chunk !== null &&
      typeof chunk !== 'string' &&
      !Buffer.isBuffer(chunk) &&
      !(chunk instanceof Uint8Array)
    ) {
      chunk = JSON.stringify(chunk);
    }
    return super.write(chunk, encoding, callback);
  }

  _write(chunk, _encoding, callback) {
    this._start();
    this._req.write(chunk, callback);
  }

  _final(callback) {
    this._start();
    this._req.end(callback);
  }

  // fail ends the response with AWS's error trailers; it is a no-op once the body has ended.
  fail(err) {
    if (this._failed || this.writableEnded) return false;
    this._failed = true;
    const response = toRapidResponse(err);
    this._req.addTrailers({
      [ERROR_TYPE_HEADER]: headerSafe(response.errorType),
      [ERROR_BODY_TRAILER]: Buffer.from(JSON.stringify(response)).toString('base64'),
    });
    this.end();
    return true;
  }
}

const HttpResponseStream = {
  // from marks a response stream as an HTTP integration response: the metadata JSON (statusCode,
  // headers, cookies) goes first, then 8 NUL bytes, then the body.
  from(stream, prelude) {
    stream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    stream._prelude = Buffer.concat([
      Buffer.from(JSON.stringify(prelude)),
      Buffer.alloc(PRELUDE_DELIMITER_LEN),
    ]);
    return stream;
  },
};

// ---------------------------------------------------------------------------------------------
// Handler loading

function installGlobals() {
  const off = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (off === '1' || off === 'true') return;
  globalThis.awslambda = {
    streamifyResponse(handler, options) {
      handler[HANDLER_STREAMING] = STREAM_RESPONSE;
      if (typeof options?.highWaterMark === 'number') {
        handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark);
      }
      return handler;
    },
    HttpResponseStream,
  };
}

function tryRequire(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function tryImport(file) {
  return fs.existsSync(file) ? await import(pathToFileURL(file).href) : undefined;
}

// packageTypeModule reports whether the nearest package.json above dir says "type": "module".
function packageTypeModule(dir) {
  for (;;) {
    if (dir.endsWith('/node_modules')) return false;
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8'))?.type === 'module';
      } catch (e) {
        console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
        return false;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

async function loadModule(appRoot, moduleRoot, module) {
  const base = path.resolve(appRoot, moduleRoot, module);
  const bare = tryRequire(base);
  if (bare) return bare;
  const esm = packageTypeModule(path.dirname(base));
  if (!esm) {
    const cjs = tryRequire(base + '.js');
    if (cjs) return cjs;
  }
  const loaded =
    (esm && (await tryImport(base + '.js'))) ||
    (await tryImport(base + '.mjs')) ||
    tryRequire(base + '.cjs');
  if (loaded) return loaded;
  // Fall back to Node's own resolution (node_modules, directories with index.js).
  return require(require.resolve(module, { paths: [appRoot, path.resolve(appRoot, moduleRoot)] }));
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match) throw new MalformedHandlerName('Bad handler');
  const [, module, handlerPath] = match;

  installGlobals();
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') {
      throw new ImportModuleError(e);
    }
    throw e;
  }
  const fn = handlerPath.split('.').reduce((obj, key) => obj && obj[key], app);
  if (!fn) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return fn;
}

function streamingMode(handler) {
  const mode = handler[HANDLER_STREAMING];
  if (mode === undefined || mode === null || mode === false) return false;
  if (mode === STREAM_RESPONSE) return STREAM_RESPONSE;
  throw new MalformedStreamingHandler('Only response streaming is supported.');
}

// ---------------------------------------------------------------------------------------------
// Invocation loop

function isPromise(v) {
  return v && typeof v.then === 'function';
}

// BeforeExit holds the one action to run when the event loop empties ('beforeExit'): that is how
// callbackWaitsForEmptyEventLoop and handlers that never answer are finished.
class BeforeExit {
  constructor() {
    this.fn = null;
    process.on('beforeExit', () => {
      const fn = this.fn;
      this.fn = null;
      if (fn) fn();
    });
  }
  set(fn) {
    this.fn = fn;
  }
  reset() {
    this.fn = null;
  }
}

function parseJSONHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

class Runtime {
  constructor(client, handler, beforeExit, onError) {
    this.client = client;
    this.handler = handler;
    this.beforeExit = beforeExit;
    this.onError = onError;
    this.streaming = streamingMode(handler) === STREAM_RESPONSE;
    this.highWaterMark = parseInt(handler[HANDLER_HIGHWATERMARK]) || undefined;
    this.isAsync = handler.constructor?.name === 'AsyncFunction';
  }

  scheduleIteration() {
    setImmediate(() => {
      const once = this.streaming ? this.handleOnceStreaming() : this.handleOnce();
      once.catch((err) => {
        console.log(`Unexpected Top Level Error: ${err}`);
        this.onError.uncaughtException(err);
      });
    });
  }

  async next() {
    const { body, headers } = await this.client.nextInvocation();
    const id = headers['lambda-runtime-aws-request-id'];
    globalThis[REQUEST_ID] = id;
    const trace = headers['lambda-runtime-trace-id'];
    if (trace) process.env._X_AMZN_TRACE_ID = trace;
    else delete process.env._X_AMZN_TRACE_ID;
    // Errors escaping user code from now on belong to this invocation: report them, then exit
    // so the instance is replaced (AWS exits 129 and 128).
    this.onError.uncaughtException = (err) =>
      this.client.postInvocationError(id, err).finally(() => process.exit(129));
    this.onError.unhandledRejection = (err) =>
      this.client.postInvocationError(id, err).finally(() => process.exit(128));
    return { id, body, headers };
  }

  contextData(headers) {
    const env = process.env;
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    return {
      functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: parseJSONHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
      identity: parseJSONHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: headers['lambda-runtime-aws-request-id'],
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
  }

  async handleOnce() {
    const { id, body, headers } = await this.next();
    const { callback, context, markCompleted } = this.callbackContext(id);
    this.beforeExit.set(() => {
      // The event loop emptied and the handler never answered.
      markCompleted();
      if (this.isAsync) {
        const err = new NodeJsExit(
          'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
        );
        logError('Invoke Error', err);
        this.finish(this.client.postInvocationError(id, err));
      } else {
        this.finish(this.client.postInvocationResponse(id, 'null'));
      }
    });
    try {
      Object.assign(context, this.contextData(headers));
      const result = this.handler(JSON.parse(body), context, callback);
      if (isPromise(result)) {
        result.then(context.succeed, context.fail).catch(context.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  // finish waits for a Runtime API post, then polls for the next invocation.
  finish(posted) {
    posted.then(
      () => this.scheduleIteration(),
      (err) => {
        process.stderr.write(`runtime API unreachable: ${err}\n`);
        process.exit(1);
      },
    );
  }

  // callbackContext builds the callback and the context's succeed/fail/done, of which only the
  // first call counts, and callbackWaitsForEmptyEventLoop.
  callbackContext(id) {
    let waitForEmptyEventLoop = true;
    let completed = false;
    let finished = false;

    const complete = (result) => {
      if (completed) {
        console.error(
          'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
        );
        return;
      }
      let body;
      try {
        body = JSON.stringify(result === undefined ? null : result);
      } catch {
        throw new Error('Unable to stringify response body');
      }
      completed = true;
      this.finish(this.client.postInvocationResponse(id, body));
    };
    const postError = (err) => {
      completed = true;
      logError('Invoke Error', err);
      this.finish(this.client.postInvocationError(id, err));
    };
    const done = (err, result) => {
      this.beforeExit.reset();
      if (err !== undefined && err !== null) postError(err);
      else complete(result);
    };
    const callback = (err, result) => {
      this.beforeExit.reset();
      if (err !== undefined && err !== null) {
        postError(err);
      } else if (!waitForEmptyEventLoop) {
        complete(result);
      } else {
        this.beforeExit.set(() => setImmediate(() => complete(result)));
      }
    };
    const once =
      (fn) =>
      (...args) => {
        if (finished) return;
        fn(...args);
        finished = true;
      };
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
      succeed: once((result) => done(null, result)),
      fail: once((err) => done(err === undefined || err === null ? 'handled' : err, null)),
      done: once(done),
    };
    return {
      callback: once(callback),
      context,
      markCompleted: () => {
        completed = true;
        finished = true;
      },
    };
  }

  async handleOnceStreaming() {
    const { id, body, headers } = await this.next();
    const stream = this.client.responseStream(id, this.highWaterMark);
    let waitForEmptyEventLoop = true;
    const scheduleNext = () => {
      this.beforeExit.reset();
      if (!waitForEmptyEventLoop) this.scheduleIteration();
      else this.beforeExit.set(() => setImmediate(() => this.scheduleIteration()));
    };
    const fail = async (err) => {
      logError('Invoke Error', err);
      if (stream.fail(err)) await stream.done.catch(() => {});
      scheduleNext();
    };
    this.beforeExit.set(() => this.scheduleIteration());
    try {
      const context = this.contextData(headers);
      Object.defineProperty(context, 'callbackWaitsForEmptyEventLoop', {
        get: () => waitForEmptyEventLoop,
        set: (v) => {
          waitForEmptyEventLoop = v;
        },
        enumerable: true,
      });
      const pending = this.handler(JSON.parse(body), stream, context);
      if (!isPromise(pending)) {
        await fail('Streaming does not support non-async handlers.');
        return;
      }
      const result = await pending;
      if (result !== undefined) console.warn('Streaming handlers ignore return values.');
      await stream.done;
      scheduleNext();
    } catch (err) {
      await fail(err);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Start

async function main() {
  patchConsole();
  const client = new RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API || '');
  // Until the first invocation, escaping errors are init errors.
  const onError = {
    uncaughtException: (err) => client.postInitError(err).finally(() => process.exit(129)),
    unhandledRejection: (err) => client.postInitError(err).finally(() => process.exit(128)),
  };
  process.on('uncaughtException', (err) => {
    logError('Uncaught Exception', err);
    onError.uncaughtException(err);
  });
  process.on('unhandledRejection', (reason) => {
    const err = new UnhandledPromiseRejection(reason?.toString());
    err.reason = reason;
    logError('Unhandled Promise Rejection', err);
    onError.unhandledRejection(err);
  });
  const beforeExit = new BeforeExit();

  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  try {
    handler = await loadHandler(appRoot, process.env._HANDLER || process.argv[2] || '');
    new Runtime(client, handler, beforeExit, onError).scheduleIteration();
  } catch (err) {
    logError('Uncaught Exception', err);
    await client.postInitError(err).catch(() => {});
    process.exit(129);
  }
}

main();
