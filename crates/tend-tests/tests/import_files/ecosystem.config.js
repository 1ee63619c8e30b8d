// A PM2 ecosystem file in the shape of PM2's documentation: `pm2 start ecosystem.config.js`.
module.exports = {
  apps: [
    {
      name: 'api',
      script: 'tend-fixture',
      interpreter: 'none',
      args: ['serve', '--name', 'api', '--timeline', 'timeline', '--stop-signal', 'INT'],
      cwd: '.',
      env: {
        NODE_ENV: 'development',
        PORT: 3000,
      },
      env_production: {
        NODE_ENV: 'production',
      },
      instances: 1,
      exec_mode: 'fork',
      autorestart: true,
      max_restarts: 10,
      restart_delay: 4000,
      kill_timeout: 3000,
      watch: false,
      max_memory_restart: '1G',
      log_file: 'logs/api.log',
    },
    {
      // No `name`: PM2 names it after the script.
      script: './worker.sh',
      args: '--queue "mail jobs" --verbose',
      exp_backoff_restart_delay: 100,
      out_file: 'logs/worker.out.log',
      error_file: 'logs/worker.err.log',
    },
  ],

  deploy: {
    production: {
      user: 'deploy',
      host: ['203.0.113.10'],
      ref: 'origin/main',
      repo: 'git@example.com:shop.git',
      path: '/var/www/shop',
    },
  },
};
