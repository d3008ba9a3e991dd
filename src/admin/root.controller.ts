import { Controller, Get, Redirect } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/guards.js';

/** `GET /` → the operator console (a browser pointed at the port lands somewhere useful, not on a JSON 404). */
@ApiExcludeController()
@Controller()
export class RootController {
  @Public()
  @Get()
  @Redirect('/admin', 302)
  root(): void {}
}
