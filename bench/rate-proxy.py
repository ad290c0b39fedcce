#!/usr/bin/env python3
"""A loopback TCP proxy for benchmarks: limits the server->client direction to RATE MB/s over all connections
(a WAN-like link in front of the local registry) and keeps the bytes sent to clients in COUNTER_FILE (updated
every 20 ms; `reset` in CONTROL_FILE... not needed: the benchmark reads differences)."""
import asyncio, sys, time

listen_port, target_port, rate_mb, counter_file = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rate = rate_mb * 1024 * 1024
sent = 0
bucket = {"tokens": 0.0, "at": time.monotonic()}


async def take(n):
    # A shared token bucket: at most `rate` bytes per second over all connections, bursts of 50 ms.
    while True:
        now = time.monotonic()
        bucket["tokens"] = min(rate * 0.05, bucket["tokens"] + (now - bucket["at"]) * rate)
        bucket["at"] = now
        if bucket["tokens"] >= n:
            bucket["tokens"] -= n
            return
        await asyncio.sleep((n - bucket["tokens"]) / rate)


async def pipe(reader, writer, limited):
    global sent
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if limited:
                await take(len(data))
                sent += len(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer, False), pipe(server_reader, client_writer, True))


async def report():
    while True:
        with open(counter_file + ".new", "w") as f:
            f.write(str(sent))
        import os
        os.replace(counter_file + ".new", counter_file)
        await asyncio.sleep(0.02)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    asyncio.get_running_loop().create_task(report())
    async with server:
        await server.serve_forever()

asyncio.run(main())
