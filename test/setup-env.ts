// Every test file sees the pinned zone, even if a worker was started without jest.config.js's env.
process.env.TZ = 'America/New_York';
