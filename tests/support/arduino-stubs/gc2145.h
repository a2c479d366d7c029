/* Stub of the mbed cores' GC2145 driver (libraries/GC2145/gc2145.h), the Nicla Vision camera. */
#pragma once
#include "camera.h"

class GC2145 : public ImageSensor {
 public:
  GC2145(TwoWire &i2c = Wire);
  int init() override;
  int reset() override;
  int getID() override;
  bool getMono() override;
};
