/* Stub of Arduino_LSM6DSOX 1.1 (src/LSM6DSOX.h): readings in g and degrees per second. */
#pragma once
#include <Arduino.h>
#include <Wire.h>

class LSM6DSOXClass {
 public:
  LSM6DSOXClass(TwoWire &wire, uint8_t slaveAddress);
  ~LSM6DSOXClass();
  int begin();
  void end();
  int readAcceleration(float &x, float &y, float &z);
  float accelerationSampleRate();
  int accelerationAvailable();
  int readGyroscope(float &x, float &y, float &z);
  float gyroscopeSampleRate();
  int gyroscopeAvailable();
  int readTemperature(int &temperature_deg);
  int temperatureAvailable();
};

extern LSM6DSOXClass IMU_LSM6DSOX;
#undef IMU
#define IMU IMU_LSM6DSOX
